--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: __SCHEMA__; Type: SCHEMA; Schema: -; Owner: -
--



SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: conversations; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.conversations (
    id text NOT NULL,
    seq bigint NOT NULL,
    platform text NOT NULL,
    workspace text NOT NULL,
    channel text NOT NULL,
    thread text NOT NULL,
    persona text NOT NULL,
    state text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    failed_turns integer DEFAULT 0 NOT NULL,
    offer_reason text
);


--
-- Name: conversations_seq_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE __SCHEMA__.conversations ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME __SCHEMA__.conversations_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: feedback; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.feedback (
    id bigint NOT NULL,
    conversation_id text NOT NULL,
    message_id text NOT NULL,
    user_id text NOT NULL,
    positive boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: feedback_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

CREATE SEQUENCE __SCHEMA__.feedback_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: feedback_id_seq; Type: SEQUENCE OWNED BY; Schema: __SCHEMA__; Owner: -
--

ALTER SEQUENCE __SCHEMA__.feedback_id_seq OWNED BY __SCHEMA__.feedback.id;


--
-- Name: handoffs; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.handoffs (
    id bigint NOT NULL,
    conversation_id text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    summary text[] DEFAULT '{}'::text[] NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    claimed_by text,
    claimed_at timestamp with time zone,
    resolved_by text,
    resolved_at timestamp with time zone,
    reminded_at timestamp with time zone
);


--
-- Name: handoffs_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

CREATE SEQUENCE __SCHEMA__.handoffs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: handoffs_id_seq; Type: SEQUENCE OWNED BY; Schema: __SCHEMA__; Owner: -
--

ALTER SEQUENCE __SCHEMA__.handoffs_id_seq OWNED BY __SCHEMA__.handoffs.id;


--
-- Name: processed_events; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.processed_events (
    event_id text NOT NULL,
    conversation_id text NOT NULL,
    processed_at timestamp with time zone NOT NULL
);


--
-- Name: retrievals; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.retrievals (
    conversation_id text NOT NULL,
    message_id text NOT NULL,
    entry_id text,
    confidence double precision NOT NULL,
    confident boolean NOT NULL,
    recorded_at timestamp with time zone NOT NULL
);


--
-- Name: schema_version; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.schema_version (
    version integer NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: turns; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.turns (
    id bigint NOT NULL,
    conversation_id text NOT NULL,
    role text NOT NULL,
    text text NOT NULL,
    author_id text NOT NULL,
    message_id text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    token_count integer NOT NULL,
    cited_ids text[] DEFAULT '{}'::text[] NOT NULL
);


--
-- Name: turns_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

CREATE SEQUENCE __SCHEMA__.turns_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: turns_id_seq; Type: SEQUENCE OWNED BY; Schema: __SCHEMA__; Owner: -
--

ALTER SEQUENCE __SCHEMA__.turns_id_seq OWNED BY __SCHEMA__.turns.id;


--
-- Name: usage; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.usage (
    conversation_id text NOT NULL,
    prompt_tokens bigint DEFAULT 0 NOT NULL,
    completion_tokens bigint DEFAULT 0 NOT NULL
);


--
-- Name: usage_ledger; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.usage_ledger (
    id bigint NOT NULL,
    day date NOT NULL,
    user_id text NOT NULL,
    channel text NOT NULL,
    conversation_id text NOT NULL,
    model text NOT NULL,
    prompt_tokens integer NOT NULL,
    completion_tokens integer NOT NULL,
    recorded_at timestamp with time zone NOT NULL
);


--
-- Name: usage_ledger_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

CREATE SEQUENCE __SCHEMA__.usage_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: usage_ledger_id_seq; Type: SEQUENCE OWNED BY; Schema: __SCHEMA__; Owner: -
--

ALTER SEQUENCE __SCHEMA__.usage_ledger_id_seq OWNED BY __SCHEMA__.usage_ledger.id;


--
-- Name: feedback id; Type: DEFAULT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.feedback ALTER COLUMN id SET DEFAULT nextval('__SCHEMA__.feedback_id_seq'::regclass);


--
-- Name: handoffs id; Type: DEFAULT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.handoffs ALTER COLUMN id SET DEFAULT nextval('__SCHEMA__.handoffs_id_seq'::regclass);


--
-- Name: turns id; Type: DEFAULT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.turns ALTER COLUMN id SET DEFAULT nextval('__SCHEMA__.turns_id_seq'::regclass);


--
-- Name: usage_ledger id; Type: DEFAULT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.usage_ledger ALTER COLUMN id SET DEFAULT nextval('__SCHEMA__.usage_ledger_id_seq'::regclass);


--
-- Data for Name: conversations; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.conversations OVERRIDING SYSTEM VALUE VALUES ('slack/T1/C1/100.1', 1, 'slack', 'T1', 'C1', '100.1', 'cafe', 'bot', '2026-11-02 09:30:00+00', '2026-11-02 09:31:00+00', 0, NULL);
INSERT INTO __SCHEMA__.conversations OVERRIDING SYSTEM VALUE VALUES ('discord/G1/D1/200', 2, 'discord', 'G1', 'D1', '200', 'cafe', 'resolved', '2026-11-02 09:40:00+00', '2026-11-02 09:50:00+00', 0, NULL);
INSERT INTO __SCHEMA__.conversations OVERRIDING SYSTEM VALUE VALUES ('slack/T1/C2/300.1', 3, 'slack', 'T1', 'C2', '300.1', 'cafe', 'waiting_for_human', '2026-11-02 10:00:00+00', '2026-11-02 10:01:00+00', 0, NULL);


--
-- Data for Name: feedback; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.feedback VALUES (1, 'slack/T1/C1/100.1', '100.2', 'U1', true, '2026-11-02 09:32:00+00');
INSERT INTO __SCHEMA__.feedback VALUES (2, 'discord/G1/D1/200', '201', 'U2', false, '2026-11-02 09:51:00+00');


--
-- Data for Name: handoffs; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.handoffs VALUES (1, 'discord/G1/D1/200', 'user_asked', 'asked for a person', '{"wants a person"}', '2026-11-02 09:41:00+00', 'S1', '2026-11-02 09:42:00+00', 'S1', '2026-11-02 09:50:00+00', NULL);
INSERT INTO __SCHEMA__.handoffs VALUES (2, 'slack/T1/C2/300.1', 'no_answer', '', '{terrace?}', '2026-11-02 10:01:00+00', NULL, NULL, NULL, NULL, NULL);


--
-- Data for Name: processed_events; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.processed_events VALUES ('Ev1', 'slack/T1/C1/100.1', '2026-11-02 09:30:00+00');
INSERT INTO __SCHEMA__.processed_events VALUES ('Ev2', 'discord/G1/D1/200', '2026-11-02 09:40:00+00');
INSERT INTO __SCHEMA__.processed_events VALUES ('Ev3', 'slack/T1/C2/300.1', '2026-11-02 10:00:00+00');


--
-- Data for Name: retrievals; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.retrievals VALUES ('slack/T1/C1/100.1', '100.1', 'hours', 0.92, true, '2026-11-02 09:30:00+00');
INSERT INTO __SCHEMA__.retrievals VALUES ('discord/G1/D1/200', '200', NULL, 0.1, false, '2026-11-02 09:40:00+00');


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.schema_version VALUES (1, '2026-12-02 01:14:05.7374+00');
INSERT INTO __SCHEMA__.schema_version VALUES (2, '2026-12-02 01:14:05.7374+00');
INSERT INTO __SCHEMA__.schema_version VALUES (3, '2026-12-02 01:14:05.7374+00');
INSERT INTO __SCHEMA__.schema_version VALUES (4, '2026-12-02 01:14:05.7374+00');


--
-- Data for Name: turns; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.turns VALUES (1, 'slack/T1/C1/100.1', 'user', 'When do you open?', 'U1', '100.1', '2026-11-02 09:30:00+00', 5, '{}');
INSERT INTO __SCHEMA__.turns VALUES (2, 'slack/T1/C1/100.1', 'assistant', 'At nine [hours].', 'bot', '100.2', '2026-11-02 09:31:00+00', 4, '{hours}');
INSERT INTO __SCHEMA__.turns VALUES (3, 'discord/G1/D1/200', 'user', 'I want a person please', 'U2', '200', '2026-11-02 09:40:00+00', 5, '{}');
INSERT INTO __SCHEMA__.turns VALUES (4, 'discord/G1/D1/200', 'staff', 'Hi, Sam here.', 'S1', '201', '2026-11-02 09:43:00+00', 3, '{}');
INSERT INTO __SCHEMA__.turns VALUES (5, 'slack/T1/C2/300.1', 'user', 'Is the terrace open?', 'U3', '300.1', '2026-11-02 10:00:00+00', 4, '{}');


--
-- Data for Name: usage; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.usage VALUES ('slack/T1/C1/100.1', 900, 20);


--
-- Data for Name: usage_ledger; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.usage_ledger VALUES (1, '2026-11-02', 'U1', 'slack:T1:C1', 'slack/T1/C1/100.1', 'gpt-4o-mini', 900, 20, '2026-11-02 09:31:00+00');


--
-- Name: conversations_seq_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.conversations_seq_seq', 3, true);


--
-- Name: feedback_id_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.feedback_id_seq', 2, true);


--
-- Name: handoffs_id_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.handoffs_id_seq', 2, true);


--
-- Name: turns_id_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.turns_id_seq', 5, true);


--
-- Name: usage_ledger_id_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.usage_ledger_id_seq', 1, true);


--
-- Name: conversations conversations_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.conversations
    ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);


--
-- Name: conversations conversations_seq_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.conversations
    ADD CONSTRAINT conversations_seq_key UNIQUE (seq);


--
-- Name: feedback feedback_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.feedback
    ADD CONSTRAINT feedback_pkey PRIMARY KEY (id);


--
-- Name: handoffs handoffs_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.handoffs
    ADD CONSTRAINT handoffs_pkey PRIMARY KEY (id);


--
-- Name: processed_events processed_events_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.processed_events
    ADD CONSTRAINT processed_events_pkey PRIMARY KEY (event_id);


--
-- Name: retrievals retrievals_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.retrievals
    ADD CONSTRAINT retrievals_pkey PRIMARY KEY (conversation_id, message_id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);


--
-- Name: turns turns_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.turns
    ADD CONSTRAINT turns_pkey PRIMARY KEY (id);


--
-- Name: usage_ledger usage_ledger_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.usage_ledger
    ADD CONSTRAINT usage_ledger_pkey PRIMARY KEY (id);


--
-- Name: usage usage_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.usage
    ADD CONSTRAINT usage_pkey PRIMARY KEY (conversation_id);


--
-- Name: conversations_by_channel; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX conversations_by_channel ON __SCHEMA__.conversations USING btree (platform, workspace, channel, updated_at DESC, seq DESC);


--
-- Name: conversations_by_state; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX conversations_by_state ON __SCHEMA__.conversations USING btree (state, updated_at);


--
-- Name: feedback_by_conversation; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX feedback_by_conversation ON __SCHEMA__.feedback USING btree (conversation_id);


--
-- Name: handoffs_by_conversation; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX handoffs_by_conversation ON __SCHEMA__.handoffs USING btree (conversation_id, id);


--
-- Name: handoffs_open; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX handoffs_open ON __SCHEMA__.handoffs USING btree (requested_at) WHERE (resolved_at IS NULL);


--
-- Name: processed_events_by_conversation; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX processed_events_by_conversation ON __SCHEMA__.processed_events USING btree (conversation_id);


--
-- Name: turns_by_conversation; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX turns_by_conversation ON __SCHEMA__.turns USING btree (conversation_id, id);


--
-- Name: usage_ledger_by_channel; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX usage_ledger_by_channel ON __SCHEMA__.usage_ledger USING btree (day, channel);


--
-- Name: usage_ledger_by_conversation; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX usage_ledger_by_conversation ON __SCHEMA__.usage_ledger USING btree (conversation_id);


--
-- Name: usage_ledger_by_user; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX usage_ledger_by_user ON __SCHEMA__.usage_ledger USING btree (day, user_id);


--
-- Name: feedback feedback_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.feedback
    ADD CONSTRAINT feedback_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- Name: handoffs handoffs_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.handoffs
    ADD CONSTRAINT handoffs_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- Name: processed_events processed_events_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.processed_events
    ADD CONSTRAINT processed_events_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- Name: retrievals retrievals_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.retrievals
    ADD CONSTRAINT retrievals_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- Name: turns turns_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.turns
    ADD CONSTRAINT turns_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- Name: usage usage_conversation_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.usage
    ADD CONSTRAINT usage_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES __SCHEMA__.conversations(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


