"""Finding the knowledge entries that answer a question: lexical, embeddings, fusion, confidence."""
