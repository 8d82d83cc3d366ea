--
-- PostgreSQL database dump
--

\restrict bJ7rABvvPdKW1lSz7QDIQxbkQanAxpcfBThDMNO64s4jbfhtbPMtEX4I756Ww44

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
-- Name: sales; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA sales;


ALTER SCHEMA sales OWNER TO postgres;

--
-- Name: SCHEMA sales; Type: COMMENT; Schema: -; Owner: postgres
--

COMMENT ON SCHEMA sales IS 'sales team';


--
-- Name: email_address; Type: DOMAIN; Schema: public; Owner: postgres
--

CREATE DOMAIN public.email_address AS text
	CONSTRAINT email_address_check CHECK ((VALUE ~~ '%@%'::text));


ALTER DOMAIN public.email_address OWNER TO postgres;

--
-- Name: money_range; Type: TYPE; Schema: sales; Owner: postgres
--

CREATE TYPE sales.money_range AS (
	low numeric,
	high numeric
);


ALTER TYPE sales.money_range OWNER TO postgres;

--
-- Name: stage; Type: TYPE; Schema: sales; Owner: postgres
--

CREATE TYPE sales.stage AS ENUM (
    'lead',
    'won',
    'lost'
);


ALTER TYPE sales.stage OWNER TO postgres;

--
-- Name: TYPE stage; Type: COMMENT; Schema: sales; Owner: postgres
--

COMMENT ON TYPE sales.stage IS 'pipeline stage';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: deals; Type: TABLE; Schema: sales; Owner: postgres
--

CREATE TABLE sales.deals (
    id integer NOT NULL,
    stage sales.stage DEFAULT 'lead'::sales.stage NOT NULL,
    contact public.email_address,
    span sales.money_range,
    tags text[]
);


ALTER TABLE sales.deals OWNER TO postgres;

--
-- Name: deals_id_seq; Type: SEQUENCE; Schema: sales; Owner: postgres
--

CREATE SEQUENCE sales.deals_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE sales.deals_id_seq OWNER TO postgres;

--
-- Name: deals_id_seq; Type: SEQUENCE OWNED BY; Schema: sales; Owner: postgres
--

ALTER SEQUENCE sales.deals_id_seq OWNED BY sales.deals.id;


--
-- Name: other; Type: TABLE; Schema: sales; Owner: postgres
--

CREATE TABLE sales.other (
    id integer
);


ALTER TABLE sales.other OWNER TO postgres;

--
-- Name: deals id; Type: DEFAULT; Schema: sales; Owner: postgres
--

ALTER TABLE ONLY sales.deals ALTER COLUMN id SET DEFAULT nextval('sales.deals_id_seq'::regclass);


--
-- Name: deals deals_pkey; Type: CONSTRAINT; Schema: sales; Owner: postgres
--

ALTER TABLE ONLY sales.deals
    ADD CONSTRAINT deals_pkey PRIMARY KEY (id);


--
-- Name: SCHEMA sales; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA sales TO sales_reader;


--
-- Name: TYPE stage; Type: ACL; Schema: sales; Owner: postgres
--

GRANT ALL ON TYPE sales.stage TO sales_reader;


--
-- Name: TABLE deals; Type: ACL; Schema: sales; Owner: postgres
--

GRANT SELECT ON TABLE sales.deals TO sales_reader;


--
-- PostgreSQL database dump complete
--

\unrestrict bJ7rABvvPdKW1lSz7QDIQxbkQanAxpcfBThDMNO64s4jbfhtbPMtEX4I756Ww44

