--
-- PostgreSQL database dump
--

\restrict vBqHRNbsnGXbZpeZmw53Z17UwANxgerAW94oEMNhjifKIvaYz0Sko5xch7YPhri

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

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
-- Name: crm2; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA crm2;


ALTER SCHEMA crm2 OWNER TO postgres;

--
-- Name: touch(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$BEGIN NEW.created_at := now(); RETURN NEW; END$$;


ALTER FUNCTION public.touch() OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: notes; Type: TABLE; Schema: crm2; Owner: postgres
--

CREATE TABLE crm2.notes (
    x integer NOT NULL
);


ALTER TABLE crm2.notes OWNER TO postgres;

--
-- Name: Odd Name; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public."Odd Name" (
    id integer
);


ALTER TABLE public."Odd Name" OWNER TO postgres;

--
-- Name: clients; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.clients (
    id bigint NOT NULL,
    name text
);


ALTER TABLE public.clients OWNER TO postgres;

--
-- Name: notes; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.notes (
    id bigint NOT NULL,
    client_id bigint NOT NULL,
    body text,
    created_at timestamp with time zone,
    parent bigint,
    CONSTRAINT notes_body_check CHECK ((body <> ''::text))
);


ALTER TABLE public.notes OWNER TO postgres;

--
-- Name: TABLE notes; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.notes IS 'the notes';


--
-- Name: COLUMN notes.body; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.notes.body IS 'text';


--
-- Name: notes2; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.notes2 (
    id integer NOT NULL,
    n bigint
);


ALTER TABLE public.notes2 OWNER TO postgres;

--
-- Name: notes2_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

ALTER TABLE public.notes2 ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notes2_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: notes_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.notes_id_seq OWNER TO postgres;

--
-- Name: notes_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public.notes_id_seq OWNED BY public.notes.id;


--
-- Name: v; Type: VIEW; Schema: public; Owner: postgres
--

CREATE VIEW public.v AS
 SELECT notes.id,
    notes.client_id,
    notes.body,
    notes.created_at,
    notes.parent
   FROM public.notes;


ALTER TABLE public.v OWNER TO postgres;

--
-- Name: notes id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes ALTER COLUMN id SET DEFAULT nextval('public.notes_id_seq'::regclass);


--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: crm2; Owner: postgres
--

ALTER TABLE ONLY crm2.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (x);


--
-- Name: clients clients_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_pkey PRIMARY KEY (id);


--
-- Name: notes notes_body_created_at_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_body_created_at_key UNIQUE (body, created_at);


--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);


--
-- Name: notes_x; Type: INDEX; Schema: crm2; Owner: postgres
--

CREATE INDEX notes_x ON crm2.notes USING btree (x);


--
-- Name: notes_client; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX notes_client ON public.notes USING btree (client_id, created_at);


--
-- Name: notes notes_touch; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER notes_touch BEFORE INSERT ON public.notes FOR EACH ROW EXECUTE FUNCTION public.touch();


--
-- Name: notes2 notes2_n_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes2
    ADD CONSTRAINT notes2_n_fkey FOREIGN KEY (n) REFERENCES public.notes(id);


--
-- Name: notes notes_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id);


--
-- Name: notes notes_parent_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_parent_fkey FOREIGN KEY (parent) REFERENCES public.notes(id);


--
-- Name: notes; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;

--
-- Name: notes p1; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY p1 ON public.notes USING (true);


--
-- Name: TABLE notes; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT ON TABLE public.notes TO crm_reader;


--
-- Name: COLUMN notes.body; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(body) ON TABLE public.notes TO crm_reader;


--
-- Name: SEQUENCE notes_id_seq; Type: ACL; Schema: public; Owner: postgres
--

GRANT USAGE ON SEQUENCE public.notes_id_seq TO crm_reader;


--
-- PostgreSQL database dump complete
--

\unrestrict vBqHRNbsnGXbZpeZmw53Z17UwANxgerAW94oEMNhjifKIvaYz0Sko5xch7YPhri

