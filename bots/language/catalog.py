"""The bot's fixed messages in each supported language, and the persona's own versions of them."""

from __future__ import annotations

from collections.abc import Mapping

# The message names a persona can rewrite under `messages:` (docs/editing-personas.md).
# {next_open}, {limit} and {faq_language} are filled in by the bot.
MESSAGE_NAMES: Mapping[str, str] = {
    "handoff": "Told to the user when a person takes over.",
    "offer": "Added when the bot cannot answer: the offer of a person.",
    "out_of_hours": "Said instead of `handoff` outside the support hours ({next_open}).",
    "handback": "Said when the team hands the conversation back to the assistant.",
    "unknown": "Said when the FAQ has nothing on the question.",
    "llm_unavailable": "Said, with the best FAQ answer, when the AI service is down.",
    "knowledge_intro": "Introduces an answer taken straight from the FAQ.",
    "declined": 'The short reply to "no thanks" after the offer of a person.',
    "faq_language": "Shown above an FAQ answer written in another language ({faq_language}).",
    "cut_input": "Added when a long message was read only in part ({limit}).",
    "busy": "Said when too many questions wait for the AI service.",
    "rate": "Said to someone who sends messages too fast.",
    "user_budget": "Said when a user's daily allowance is spent.",
    "channel_budget": "Said when a channel's daily allowance is spent.",
    "store_trouble": "Said when the database fails in the middle of a turn.",
    "cut_short": "Ends an answer that stopped before it was finished.",
    "no_images": "Said when a picture comes with a question and the model cannot see images.",
    "file_unread": "Added when an attached file could not be read ({file}).",
}

_EN = {
    "handoff": "I'm passing this conversation to a member of our team. Someone will reply here.",
    "offer": "Would you like me to get a person from our team?",
    "out_of_hours": "Our team is away right now; someone will reply here {next_open}.",
    "handback": "You're back with the assistant. Ask me anything else!",
    "unknown": "I'm sorry, I don't know the answer to that.",
    "llm_unavailable": "I can't reach my answering service right now.",
    "knowledge_intro": "Here is what I found:",
    "declined": "All right, no person then. Ask me anything else!",
    "faq_language": "(Our FAQ is written in {faq_language}.)",
    "cut_input": "(Your message was long, so I only read its first {limit} characters.)",
    "busy": "I'm answering a lot of questions right now and can't get to yours straight away.",
    "rate": "You're sending messages faster than I can answer them; please give me a minute.",
    "user_budget": "I've answered as many questions as I can for you today (my daily limit "
    "starts again at midnight UTC).",
    "channel_budget": "I've answered as many questions as I can in this channel today (my "
    "daily limit starts again at midnight UTC).",
    "store_trouble": "Sorry, something went wrong on my side and I could not answer that. "
    "Please send your message again in a moment.",
    "cut_short": "(My answer was cut short.)",
    "no_images": "I can't see images, so I could not look at the picture you attached.",
    "file_unread": "(I could not read the attached file {file}.)",
}

# Written for these messages, not machine-translated word for word: each says what the English
# says, in the register a support desk uses in that language (formal "vous", "Sie", "u").
_BUILT_IN: dict[str, dict[str, str]] = {
    "en": _EN,
    "es": {
        "handoff": "Paso esta conversación a una persona de nuestro equipo. Alguien te "
        "responderá aquí.",
        "offer": "¿Quieres que te ponga en contacto con una persona de nuestro equipo?",
        "out_of_hours": "Nuestro equipo no está disponible ahora; alguien te responderá aquí "
        "{next_open}.",
        "handback": "Vuelves a hablar con el asistente. ¡Pregúntame lo que quieras!",
        "unknown": "Lo siento, no sé la respuesta a eso.",
        "llm_unavailable": "Ahora mismo no puedo acceder a mi servicio de respuestas.",
        "knowledge_intro": "Esto es lo que he encontrado:",
        "declined": "De acuerdo, sin persona entonces. ¡Pregúntame lo que quieras!",
        "faq_language": "(Nuestras preguntas frecuentes están en {faq_language}.)",
        "cut_input": "(Tu mensaje era largo, así que solo he leído los primeros {limit} "
        "caracteres.)",
        "busy": "Estoy respondiendo muchas preguntas ahora mismo y no puedo atender la tuya "
        "enseguida.",
        "rate": "Envías mensajes más rápido de lo que puedo responder; dame un minuto, por favor.",
        "user_budget": "Hoy ya he respondido todas las preguntas que podía para ti (mi límite "
        "diario se renueva a medianoche UTC).",
        "channel_budget": "Hoy ya he respondido todas las preguntas que podía en este canal (mi "
        "límite diario se renueva a medianoche UTC).",
        "store_trouble": "Lo siento, algo ha fallado por mi parte y no he podido responder. "
        "Vuelve a enviar tu mensaje dentro de un momento.",
        "cut_short": "(Mi respuesta se ha cortado.)",
        "no_images": "No puedo ver imágenes, así que no he podido mirar la imagen que adjuntaste.",
        "file_unread": "(No he podido leer el archivo adjunto {file}.)",
    },
    "fr": {
        "handoff": "Je transmets cette conversation à un membre de notre équipe. Quelqu'un "
        "vous répondra ici.",
        "offer": "Voulez-vous que je fasse appel à une personne de notre équipe ?",
        "out_of_hours": "Notre équipe est absente pour le moment ; quelqu'un vous répondra ici "
        "{next_open}.",
        "handback": "Vous êtes de nouveau avec l'assistant. Posez-moi d'autres questions !",
        "unknown": "Désolé, je ne connais pas la réponse à cette question.",
        "llm_unavailable": "Je n'arrive pas à joindre mon service de réponses pour le moment.",
        "knowledge_intro": "Voici ce que j'ai trouvé :",
        "declined": "Très bien, pas de personne alors. Posez-moi d'autres questions !",
        "faq_language": "(Notre FAQ est rédigée en {faq_language}.)",
        "cut_input": "(Votre message était long : je n'en ai lu que les {limit} premiers "
        "caractères.)",
        "busy": "Je réponds à beaucoup de questions en ce moment et ne peux pas traiter la "
        "vôtre tout de suite.",
        "rate": "Vous envoyez des messages plus vite que je ne peux y répondre ; laissez-moi "
        "une minute, s'il vous plaît.",
        "user_budget": "J'ai répondu à autant de questions que possible pour vous aujourd'hui "
        "(ma limite quotidienne repart à minuit UTC).",
        "channel_budget": "J'ai répondu à autant de questions que possible dans ce canal "
        "aujourd'hui (ma limite quotidienne repart à minuit UTC).",
        "store_trouble": "Désolé, un problème de mon côté m'a empêché de répondre. Renvoyez "
        "votre message dans un instant.",
        "cut_short": "(Ma réponse a été interrompue.)",
        "no_images": "Je ne peux pas voir les images, je n'ai donc pas pu regarder celle que vous "
        "avez jointe.",
        "file_unread": "(Je n'ai pas pu lire le fichier joint {file}.)",
    },
    "de": {
        "handoff": "Ich gebe dieses Gespräch an ein Mitglied unseres Teams weiter. Jemand "
        "antwortet Ihnen hier.",
        "offer": "Möchten Sie, dass ich eine Person aus unserem Team hole?",
        "out_of_hours": "Unser Team ist gerade nicht da; jemand antwortet Ihnen hier {next_open}.",
        "handback": "Sie sind wieder beim Assistenten. Fragen Sie mich gern noch etwas!",
        "unknown": "Das tut mir leid, darauf weiß ich keine Antwort.",
        "llm_unavailable": "Ich erreiche meinen Antwortdienst gerade nicht.",
        "knowledge_intro": "Das habe ich gefunden:",
        "declined": "Alles klar, dann keine Person. Fragen Sie mich gern noch etwas!",
        "faq_language": "(Unsere FAQ ist auf {faq_language} geschrieben.)",
        "cut_input": "(Ihre Nachricht war lang, ich habe nur die ersten {limit} Zeichen gelesen.)",
        "busy": "Ich beantworte gerade sehr viele Fragen und komme nicht sofort zu Ihrer.",
        "rate": "Sie schreiben schneller, als ich antworten kann; geben Sie mir bitte eine Minute.",
        "user_budget": "Ich habe heute so viele Fragen für Sie beantwortet, wie ich kann (mein "
        "Tageslimit beginnt um Mitternacht UTC neu).",
        "channel_budget": "Ich habe heute in diesem Kanal so viele Fragen beantwortet, wie ich "
        "kann (mein Tageslimit beginnt um Mitternacht UTC neu).",
        "store_trouble": "Entschuldigung, bei mir ist etwas schiefgelaufen und ich konnte nicht "
        "antworten. Bitte senden Sie Ihre Nachricht gleich noch einmal.",
        "cut_short": "(Meine Antwort wurde abgeschnitten.)",
        "no_images": "Ich kann keine Bilder sehen und konnte mir Ihr angehängtes Bild daher nicht "
        "ansehen.",
        "file_unread": "(Ich konnte die angehängte Datei {file} nicht lesen.)",
    },
    "pt": {
        "handoff": "Vou passar esta conversa para uma pessoa da nossa equipe. Alguém vai "
        "responder aqui.",
        "offer": "Quer que eu chame uma pessoa da nossa equipe?",
        "out_of_hours": "Nossa equipe não está disponível agora; alguém vai responder aqui "
        "{next_open}.",
        "handback": "Você voltou a falar com o assistente. Pergunte o que quiser!",
        "unknown": "Desculpe, não sei a resposta para isso.",
        "llm_unavailable": "Não consigo acessar meu serviço de respostas agora.",
        "knowledge_intro": "Veja o que encontrei:",
        "declined": "Tudo bem, sem pessoa então. Pergunte o que quiser!",
        "faq_language": "(Nossas perguntas frequentes estão em {faq_language}.)",
        "cut_input": "(Sua mensagem era longa, então só li os primeiros {limit} caracteres.)",
        "busy": "Estou respondendo muitas perguntas agora e não consigo atender a sua "
        "imediatamente.",
        "rate": "Você está enviando mensagens mais rápido do que consigo responder; me dê um "
        "minuto, por favor.",
        "user_budget": "Hoje já respondi todas as perguntas que podia para você (meu limite "
        "diário recomeça à meia-noite UTC).",
        "channel_budget": "Hoje já respondi todas as perguntas que podia neste canal (meu "
        "limite diário recomeça à meia-noite UTC).",
        "store_trouble": "Desculpe, algo deu errado do meu lado e não consegui responder. Envie "
        "sua mensagem de novo daqui a pouco.",
        "cut_short": "(Minha resposta foi interrompida.)",
        "no_images": "Não consigo ver imagens, por isso não pude olhar a imagem que você anexou.",
        "file_unread": "(Não consegui ler o arquivo anexado {file}.)",
    },
    "it": {
        "handoff": "Passo questa conversazione a una persona del nostro team. Qualcuno ti "
        "risponderà qui.",
        "offer": "Vuoi che chiami una persona del nostro team?",
        "out_of_hours": "Il nostro team al momento non c'è; qualcuno ti risponderà qui "
        "{next_open}.",
        "handback": "Sei di nuovo con l'assistente. Chiedimi pure altro!",
        "unknown": "Mi dispiace, non conosco la risposta.",
        "llm_unavailable": "Al momento non riesco a raggiungere il mio servizio di risposte.",
        "knowledge_intro": "Ecco cosa ho trovato:",
        "declined": "Va bene, niente persona allora. Chiedimi pure altro!",
        "faq_language": "(Le nostre FAQ sono scritte in {faq_language}.)",
        "cut_input": "(Il tuo messaggio era lungo, quindi ho letto solo i primi {limit} "
        "caratteri.)",
        "busy": "Sto rispondendo a molte domande in questo momento e non riesco a occuparmi "
        "subito della tua.",
        "rate": "Stai inviando messaggi più velocemente di quanto riesca a rispondere; dammi un "
        "minuto, per favore.",
        "user_budget": "Oggi ho risposto a tutte le domande che potevo per te (il mio limite "
        "giornaliero riparte a mezzanotte UTC).",
        "channel_budget": "Oggi ho risposto a tutte le domande che potevo in questo canale (il "
        "mio limite giornaliero riparte a mezzanotte UTC).",
        "store_trouble": "Scusa, qualcosa è andato storto da parte mia e non ho potuto "
        "rispondere. Invia di nuovo il messaggio tra un momento.",
        "cut_short": "(La mia risposta si è interrotta.)",
        "no_images": "Non posso vedere le immagini, quindi non ho potuto guardare quella che hai "
        "allegato.",
        "file_unread": "(Non ho potuto leggere il file allegato {file}.)",
    },
    "nl": {
        "handoff": "Ik geef dit gesprek door aan iemand van ons team. Er reageert hier iemand.",
        "offer": "Wilt u dat ik iemand van ons team erbij haal?",
        "out_of_hours": "Ons team is er nu niet; er reageert hier iemand {next_open}.",
        "handback": "U bent weer bij de assistent. Vraag me gerust nog iets!",
        "unknown": "Sorry, daar weet ik het antwoord niet op.",
        "llm_unavailable": "Ik kan mijn antwoorddienst nu niet bereiken.",
        "knowledge_intro": "Dit heb ik gevonden:",
        "declined": "Prima, dan geen medewerker. Vraag me gerust nog iets!",
        "faq_language": "(Onze veelgestelde vragen zijn in het {faq_language} geschreven.)",
        "cut_input": "(Uw bericht was lang, dus ik heb alleen de eerste {limit} tekens gelezen.)",
        "busy": "Ik beantwoord nu veel vragen en kan de uwe niet meteen oppakken.",
        "rate": "U stuurt sneller berichten dan ik kan beantwoorden; geef me alstublieft een "
        "minuut.",
        "user_budget": "Ik heb vandaag zoveel vragen voor u beantwoord als ik kan (mijn daglimiet "
        "begint om middernacht UTC opnieuw).",
        "channel_budget": "Ik heb vandaag in dit kanaal zoveel vragen beantwoord als ik kan "
        "(mijn daglimiet begint om middernacht UTC opnieuw).",
        "store_trouble": "Sorry, er ging aan mijn kant iets mis en ik kon niet antwoorden. "
        "Stuur uw bericht zo nog eens.",
        "cut_short": "(Mijn antwoord is afgebroken.)",
        "no_images": "Ik kan geen afbeeldingen zien, dus ik kon de afbeelding die u bijvoegde "
        "niet bekijken.",
        "file_unread": "(Ik kon het bijgevoegde bestand {file} niet lezen.)",
    },
    "ja": {
        "handoff": "この会話をチームの担当者に引き継ぎます。担当者がここで返信します。",
        "offer": "チームの担当者におつなぎしましょうか？",
        "out_of_hours": "ただいまチームは対応時間外です。{next_open}にここで返信します。",
        "handback": "アシスタントに戻りました。ほかにも何でも聞いてください。",
        "unknown": "申し訳ありませんが、その答えはわかりません。",
        "llm_unavailable": "現在、回答サービスに接続できません。",
        "knowledge_intro": "見つかった情報です：",
        "declined": "かしこまりました。担当者にはおつなぎしません。ほかにも何でも聞いてください。",
        "faq_language": "（FAQは{faq_language}で書かれています。）",
        "cut_input": "（メッセージが長いため、最初の{limit}文字だけを読みました。）",
        "busy": "ただいま多くの質問にお答えしているため、すぐには対応できません。",
        "rate": "返信が追いつかない速さでメッセージが届いています。少しお待ちください。",
        "user_budget": "本日お答えできる質問数の上限に達しました（上限はUTCの午前0時に"
        "リセットされます）。",
        "channel_budget": "本日このチャンネルでお答えできる質問数の上限に達しました（上限はUTCの"
        "午前0時にリセットされます）。",
        "store_trouble": "申し訳ありません。こちらで問題が発生し、お答えできませんでした。"
        "少ししてからもう一度送ってください。",
        "cut_short": "（回答が途中で途切れました。）",
        "no_images": "画像は見られないため、添付された画像を確認できませんでした。",
        "file_unread": "（添付ファイル {file} を読めませんでした。）",
    },
    "zh": {
        "handoff": "我会把这个对话转给我们团队的工作人员，稍后会有人在这里回复你。",
        "offer": "需要我为你联系我们团队的工作人员吗？",
        "out_of_hours": "我们的团队现在不在线，{next_open}会有人在这里回复你。",
        "handback": "你已回到智能助手。还有什么问题都可以问我！",
        "unknown": "抱歉，我不知道这个问题的答案。",
        "llm_unavailable": "我现在无法连接到回答服务。",
        "knowledge_intro": "这是我找到的内容：",
        "declined": "好的，那就不转人工了。还有什么问题都可以问我！",
        "faq_language": "（我们的常见问题是用{faq_language}写的。）",
        "cut_input": "（你的消息太长，我只读了前 {limit} 个字符。）",
        "busy": "我现在要回答的问题很多，暂时无法马上处理你的问题。",
        "rate": "你发消息的速度比我回答得还快，请给我一分钟。",
        "user_budget": "今天我已为你回答了上限数量的问题（每日上限在 UTC 午夜重置）。",
        "channel_budget": "今天我已在这个频道回答了上限数量的问题（每日上限在 UTC 午夜重置）。",
        "store_trouble": "抱歉，我这边出了问题，没能回答。请稍后再发送一次。",
        "cut_short": "（我的回答被中断了。）",
        "no_images": "我看不到图片，所以没能查看你附上的图片。",
        "file_unread": "（我没能读取附件 {file}。）",
    },
}

SUPPORTED: tuple[str, ...] = tuple(_BUILT_IN)

# A language's name, written in each supported language: for "our FAQ is in English".
_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {"en": "English", "es": "Spanish", "fr": "French", "de": "German",
           "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "ja": "Japanese",
           "zh": "Chinese"},
    "es": {"en": "inglés", "es": "español", "fr": "francés", "de": "alemán",
           "pt": "portugués", "it": "italiano", "nl": "neerlandés", "ja": "japonés",
           "zh": "chino"},
    "fr": {"en": "anglais", "es": "espagnol", "fr": "français", "de": "allemand",
           "pt": "portugais", "it": "italien", "nl": "néerlandais", "ja": "japonais",
           "zh": "chinois"},
    "de": {"en": "Englisch", "es": "Spanisch", "fr": "Französisch", "de": "Deutsch",
           "pt": "Portugiesisch", "it": "Italienisch", "nl": "Niederländisch",
           "ja": "Japanisch", "zh": "Chinesisch"},
    "pt": {"en": "inglês", "es": "espanhol", "fr": "francês", "de": "alemão",
           "pt": "português", "it": "italiano", "nl": "holandês", "ja": "japonês",
           "zh": "chinês"},
    "it": {"en": "inglese", "es": "spagnolo", "fr": "francese", "de": "tedesco",
           "pt": "portoghese", "it": "italiano", "nl": "olandese", "ja": "giapponese",
           "zh": "cinese"},
    "nl": {"en": "Engels", "es": "Spaans", "fr": "Frans", "de": "Duits", "pt": "Portugees",
           "it": "Italiaans", "nl": "Nederlands", "ja": "Japans", "zh": "Chinees"},
    "ja": {"en": "英語", "es": "スペイン語", "fr": "フランス語", "de": "ドイツ語",
           "pt": "ポルトガル語", "it": "イタリア語", "nl": "オランダ語", "ja": "日本語",
           "zh": "中国語"},
    "zh": {"en": "英文", "es": "西班牙文", "fr": "法文", "de": "德文", "pt": "葡萄牙文",
           "it": "意大利文", "nl": "荷兰文", "ja": "日文", "zh": "中文"},
}  # fmt: skip

# Words for "today", "tomorrow" and the weekdays, for when the team is back.
_WHEN: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    # (today, tomorrow, Monday..Sunday, how a day and a time are put together)
    "en": ("today", "tomorrow", ("on Monday", "on Tuesday", "on Wednesday", "on Thursday",
           "on Friday", "on Saturday", "on Sunday"), "{day} at {time}"),
    "es": ("hoy", "mañana", ("el lunes", "el martes", "el miércoles", "el jueves",
           "el viernes", "el sábado", "el domingo"), "{day} a las {time}"),
    "fr": ("aujourd'hui", "demain", ("lundi", "mardi", "mercredi", "jeudi", "vendredi",
           "samedi", "dimanche"), "{day} à {time}"),
    "de": ("heute", "morgen", ("am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag",
           "am Freitag", "am Samstag", "am Sonntag"), "{day} um {time}"),
    "pt": ("hoje", "amanhã", ("na segunda-feira", "na terça-feira", "na quarta-feira",
           "na quinta-feira", "na sexta-feira", "no sábado", "no domingo"), "{day} às {time}"),
    "it": ("oggi", "domani", ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì",
           "sabato", "domenica"), "{day} alle {time}"),
    "nl": ("vandaag", "morgen", ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
           "zaterdag", "zondag"), "{day} om {time}"),
    "ja": ("今日", "明日", ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日",
           "日曜日"), "{day}の{time}"),
    "zh": ("今天", "明天", ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
           "{day} {time}"),
}  # fmt: skip

Overrides = Mapping[str, Mapping[str, str]]
"""A persona's own texts: language code -> message name -> text."""


def supported(language: str) -> str:
    """`language` if there are built-in messages for it, else English."""
    return language if language in _BUILT_IN else "en"


def message(name: str, language: str, overrides: Overrides | None = None) -> str:
    """Message `name` in `language`: the persona's own text first, then the built-in one.

    A language without built-in messages gets the persona's text in that language if it wrote
    one, else English.
    """
    own = (overrides or {}).get(language, {}).get(name)
    if own:
        return own
    return _BUILT_IN[supported(language)][name]


def language_name(language: str, written_in: str) -> str:
    """What `language` is called in `written_in` ("anglais" for en in fr); the code if unknown."""
    return _LANGUAGE_NAMES[supported(written_in)].get(language, language)


def when_words(language: str) -> tuple[str, str, tuple[str, ...], str]:
    """Today, tomorrow, the weekdays (Monday first) and the day-and-time pattern."""
    return _WHEN[supported(language)]
