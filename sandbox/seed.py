"""A synthetic real-estate CRM dataset, generated inside PostgreSQL.

The tables (agents, clients, contacts, properties, escrows, appointments,
notes) get varied, realistic values drawn from word pools with a fixed seed,
so that compression ratios and restore times mean something and runs are
comparable.  Generation is set-based SQL (``generate_series``), so a 2 GB
dataset for the benchmarks loads in minutes; scale 1 is about 10 MB.

:func:`seed_sql` is pure and returns the whole script; :func:`row_counts`
gives the expected row count per table for a scale.
"""

from __future__ import annotations

#: rows per table at scale 1
BASE_ROWS = {
    "agents": 40,
    "clients": 4000,
    "properties": 2500,
    "contacts": 16000,
    "appointments": 8000,
    "escrows": 1000,
    "notes": 12000,
}

FIRST = """Olivia Liam Emma Noah Ava Oliver Sophia Elijah Isabella James Mia William Amelia Benjamin Harper
Lucas Evelyn Henry Abigail Theodore Emily Jack Ella Levi Elizabeth Alexander Camila Jackson Luna Mateo Sofia Daniel
Avery Michael Mila Mason Aria Sebastian Scarlett Ethan Penelope Logan Layla Owen Chloe Samuel Victoria Jacob Madison
Asher Eleanor Aiden Grace John Nora Joseph Riley Wyatt Zoey David Hannah Leo Hazel Luke Lily Julian Ellie Hudson
Violet Grayson Lillian Matthew Zoe Ezra Stella Gabriel Aurora Carter Natalie Isaac Emilia Jayden Everly Luca Leah
Anthony Aubrey Dylan Willow Lincoln Addison Thomas Lucy Maverick Audrey Elias Bella Josiah Nova Charles Brooklyn
Caleb Paisley Christopher Savannah Ezekiel Claire Miles Skylar Jaxon Isla Isaiah Genesis Andrew Naomi Joshua Elena
Nathan Caroline Nolan Eliana Adrian Anna Cameron Maya Santiago Valentina Eli Ruby Aaron Kennedy Ryan Ivy Angel
Ariana""".split()

LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell
Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks
Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero
Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera
Gibson""".split()

STREETS = """Maple Oak Pine Cedar Elm Willow Birch Walnut Chestnut Spruce Magnolia Sycamore Hickory Aspen Laurel
Juniper Cypress Poplar Redwood Sequoia Dogwood Hawthorn Linden Alder Beech Cherry Peach Orchard Meadow Valley Ridge
Lake River Creek Harbor Bay Sunset Sunrise Highland Park Forest Garden Hill Spring Summit Canyon Mesa Prairie Brook
Washington Lincoln Jefferson Madison Franklin Jackson Adams Monroe Grant Hamilton Main Church Market Mill
School""".split()

SUFFIXES = "St Ave Rd Blvd Ln Dr Ct Way Pl Ter Cir Pkwy Trl".split()

CITIES = [
    ("Austin", "TX", "787"), ("Denver", "CO", "802"), ("Portland", "OR", "972"), ("Raleigh", "NC", "276"),
    ("Phoenix", "AZ", "850"), ("Nashville", "TN", "372"), ("Tampa", "FL", "336"), ("Boise", "ID", "837"),
    ("Columbus", "OH", "432"), ("Charlotte", "NC", "282"), ("San Diego", "CA", "921"), ("Sacramento", "CA", "958"),
    ("Salt Lake City", "UT", "841"), ("Madison", "WI", "537"), ("Richmond", "VA", "232"), ("Atlanta", "GA", "303"),
    ("Minneapolis", "MN", "554"), ("Kansas City", "MO", "641"), ("Pittsburgh", "PA", "152"), ("Seattle", "WA", "981"),
    ("Albuquerque", "NM", "871"), ("Omaha", "NE", "681"), ("Tucson", "AZ", "857"), ("Orlando", "FL", "328"),
]

WORDS = """client called about the listing and asked whether seller would consider offer below asking price
wants three bedrooms near good schools with a large backyard for dogs prefers quiet street close to downtown
inspection found minor roof repairs water heater replaced last year foundation looks solid appraisal came in
at contract price lender requested updated pay stubs and bank statements closing date moved by one week buyer
loved the kitchen but worried about traffic noise from the main road scheduled second showing for weekend
open house brought twelve visitors two serious buyers left contact details follow up with preapproval letter
counteroffer accepted earnest money deposited title search clear hoa documents sent for review survey ordered
seller needs a rent back period of thirty days after closing buyer agreed with small credit for repairs
first time buyer nervous about interest rates explained adjustable versus fixed options sent mortgage calculator
relocating for work from another state needs virtual tours and quick decisions budget firm cannot stretch
investor looking for duplex with positive cash flow asked for rent roll and expense history of the property
price reduced after three weeks on market more showings booked photographer retook exterior pictures in spring
neighbors planning renovation permit pending zoning allows accessory dwelling unit garage could be converted
emailed comparable sales in the neighborhood median price per square foot increased six percent this year
""".split()

PROPERTY_KINDS = "single_family condo townhouse duplex multi_family land mobile_home".split()
CLIENT_KINDS = "buyer seller both investor renter".split()
CLIENT_STATUS = "lead active under_contract closed lost nurturing".split()
SOURCES = "referral website zillow open_house sign_call social walk_in repeat".split()
CONTACT_KINDS = "email phone sms meeting video".split()
APPT_KINDS = "showing listing_presentation inspection appraisal closing consultation open_house".split()
APPT_STATUS = "scheduled completed cancelled no_show rescheduled".split()
ESCROW_STATUS = "open pending_inspection pending_financing clear_to_close closed cancelled".split()
LENDERS = ["Rocket Mortgage", "Wells Fargo", "Chase", "Bank of America", "US Bank", "Guild Mortgage",
           "loanDepot", "Fairway", "Navy Federal", "Local Credit Union", "Cash"]
TITLES = ["First American", "Fidelity National", "Old Republic", "Stewart Title", "Chicago Title", "WFG"]

TABLES = tuple(BASE_ROWS)


def row_counts(scale: int) -> dict[str, int]:
    """Rows each table gets at ``scale``."""
    return {table: rows * scale for table, rows in BASE_ROWS.items()}


def _array(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def seed_sql(scale: int) -> str:
    """The SQL script that (re)creates and fills the CRM tables at ``scale``.

    :raises ValueError: for a scale below 1
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    n = row_counts(scale)
    cities = _array(f"{c}|{s}|{z}" for c, s, z in CITIES)
    return f"""
SET client_min_messages = warning;
SELECT setseed(0.20261126);
CREATE FUNCTION pg_temp.pick(text[]) RETURNS text LANGUAGE sql VOLATILE
  AS $$ SELECT $1[1 + floor(random() * array_length($1, 1))::int] $$;
CREATE FUNCTION pg_temp.words(text[], n int) RETURNS text LANGUAGE sql VOLATILE
  AS $$ SELECT string_agg($1[1 + floor(random() * array_length($1, 1))::int], ' ') FROM generate_series(1, n) $$;
CREATE FUNCTION pg_temp.sentence(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT upper(left($1, 1)) || substr($1, 2) || '.' $$;
DROP TABLE IF EXISTS notes, appointments, escrows, contacts, properties, clients, agents CASCADE;

CREATE TABLE agents (
  id bigint PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE, phone text NOT NULL,
  license_no text NOT NULL, office text NOT NULL, hired_on date NOT NULL, commission_pct numeric(4,2) NOT NULL);
INSERT INTO agents
SELECT g, f || ' ' || l, lower(f || '.' || l || g) || '@realty.example', '(' || (200 + (random()*799)::int) || ') 555-'
       || lpad((random()*9999)::int::text, 4, '0'), 'RE-' || (100000 + (random()*899999)::int),
       split_part(pg_temp.pick({cities}), '|', 1) || ' office', date '2005-01-01' + (random()*7000)::int,
       round((2 + random()*2)::numeric, 2)
FROM generate_series(1, {n["agents"]}) g, LATERAL (SELECT pg_temp.pick({_array(FIRST)}) || substr(g::text, 1, 0) AS f,
       pg_temp.pick({_array(LAST)}) AS l) names;

CREATE TABLE clients (
  id bigint PRIMARY KEY, agent_id bigint NOT NULL REFERENCES agents, first_name text NOT NULL, last_name text NOT NULL,
  email text NOT NULL, phone text NOT NULL, kind text NOT NULL, status text NOT NULL, source text NOT NULL,
  budget_min integer, budget_max integer, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO clients
SELECT g, 1 + (random() * ({n["agents"]} - 1))::int, f, l,
       lower(f || '.' || l || (random()*999)::int)
         || pg_temp.pick(ARRAY['@gmail.com','@yahoo.com','@outlook.com','@icloud.com']),
       '(' || (200 + (random()*799)::int) || ') ' || (200 + (random()*799)::int) || '-'
         || lpad((random()*9999)::int::text, 4, '0'),
       pg_temp.pick({_array(CLIENT_KINDS)}), pg_temp.pick({_array(CLIENT_STATUS)}), pg_temp.pick({_array(SOURCES)}),
       b, b + (25000 + random()*400000)::int, c, c + (random() * interval '400 days')
FROM generate_series(1, {n["clients"]}) g,
     LATERAL (SELECT pg_temp.pick({_array(FIRST)}) || substr(g::text, 1, 0) AS f, pg_temp.pick({_array(LAST)}) AS l,
              (150000 + random()*900000)::int AS b,
              timestamptz '2019-01-01' + random() * interval '2500 days' AS c) v;
CREATE INDEX clients_agent ON clients (agent_id);
CREATE INDEX clients_email ON clients (email);

CREATE TABLE properties (
  id bigint PRIMARY KEY, address_line text NOT NULL, city text NOT NULL, state text NOT NULL, zip text NOT NULL,
  kind text NOT NULL, beds smallint NOT NULL, baths numeric(3,1) NOT NULL, sqft integer NOT NULL, lot_sqft integer,
  year_built smallint NOT NULL, list_price integer NOT NULL, status text NOT NULL, listed_at date NOT NULL,
  latitude double precision NOT NULL, longitude double precision NOT NULL, description text NOT NULL);
INSERT INTO properties
SELECT g,
       (10 + (random()*9900)::int) || ' ' || pg_temp.pick({_array(STREETS)}) || ' ' || pg_temp.pick({_array(SUFFIXES)}),
       split_part(c, '|', 1), split_part(c, '|', 2), split_part(c, '|', 3) || lpad((random()*99)::int::text, 2, '0'),
       pg_temp.pick({_array(PROPERTY_KINDS)}), 1 + (random()*5)::int, 1 + round((random()*3)::numeric * 2) / 2,
       s, CASE WHEN random() < 0.2 THEN NULL ELSE s * (2 + (random()*8)::int) END, 1900 + (random()*125)::int,
       (s * (120 + random()*480))::int, pg_temp.pick(ARRAY['active','pending','sold','withdrawn','coming_soon']),
       date '2020-01-01' + (random()*2100)::int, 25 + random()*23, -122 + random()*50,
       pg_temp.sentence(pg_temp.words({_array(WORDS)}, 12 + (random()*30)::int))
FROM generate_series(1, {n["properties"]}) g,
     LATERAL (SELECT pg_temp.pick({cities}) || substr(g::text, 1, 0) AS c, (600 + random()*4400)::int AS s) v;
CREATE INDEX properties_city_zip ON properties (city, zip);

CREATE TABLE contacts (
  id bigint PRIMARY KEY, client_id bigint NOT NULL REFERENCES clients, agent_id bigint NOT NULL REFERENCES agents,
  kind text NOT NULL, direction text NOT NULL, happened_at timestamptz NOT NULL, duration_s integer,
  summary text NOT NULL);
INSERT INTO contacts
SELECT g, 1 + (random() * ({n["clients"]} - 1))::int, 1 + (random() * ({n["agents"]} - 1))::int,
       pg_temp.pick({_array(CONTACT_KINDS)}), pg_temp.pick(ARRAY['inbound','outbound']),
       timestamptz '2019-01-01' + random() * interval '2500 days',
       CASE WHEN random() < 0.5 THEN (random()*3600)::int END,
       pg_temp.sentence(pg_temp.words({_array(WORDS)}, 5 + (random()*15)::int + 0 * g))
FROM generate_series(1, {n["contacts"]}) g;
CREATE INDEX contacts_client ON contacts (client_id, happened_at);

CREATE TABLE escrows (
  id bigint PRIMARY KEY, property_id bigint NOT NULL REFERENCES properties, buyer_id bigint NOT NULL REFERENCES clients,
  seller_id bigint REFERENCES clients, agent_id bigint NOT NULL REFERENCES agents, price integer NOT NULL,
  earnest_money integer NOT NULL, lender text NOT NULL, title_company text NOT NULL, status text NOT NULL,
  opened_at date NOT NULL, closing_at date NOT NULL);
INSERT INTO escrows
SELECT g, 1 + (random() * ({n["properties"]} - 1))::int, 1 + (random() * ({n["clients"]} - 1))::int,
       CASE WHEN random() < 0.7 THEN 1 + (random() * ({n["clients"]} - 1))::int END,
       1 + (random() * ({n["agents"]} - 1))::int, p, (p * (0.01 + random()*0.02))::int,
       pg_temp.pick({_array(LENDERS)}), pg_temp.pick({_array(TITLES)}), pg_temp.pick({_array(ESCROW_STATUS)}),
       o, o + (21 + random()*40)::int
FROM generate_series(1, {n["escrows"]}) g,
     LATERAL (SELECT (120000 + random()*1500000)::int + 0 * g AS p, date '2020-01-01' + (random()*2100)::int AS o) v;

CREATE TABLE appointments (
  id bigint PRIMARY KEY, client_id bigint NOT NULL REFERENCES clients, property_id bigint REFERENCES properties,
  agent_id bigint NOT NULL REFERENCES agents, kind text NOT NULL, status text NOT NULL,
  starts_at timestamptz NOT NULL, duration_min smallint NOT NULL, location_note text);
INSERT INTO appointments
SELECT g, 1 + (random() * ({n["clients"]} - 1))::int,
       CASE WHEN random() < 0.85 THEN 1 + (random() * ({n["properties"]} - 1))::int END,
       1 + (random() * ({n["agents"]} - 1))::int, pg_temp.pick({_array(APPT_KINDS)}),
       pg_temp.pick({_array(APPT_STATUS)}),
       timestamptz '2020-01-01' + random() * interval '2200 days', (15 * (1 + (random()*7)::int))::smallint,
       CASE WHEN random() < 0.4 THEN pg_temp.words({_array(WORDS)}, 4 + (random()*8)::int + 0 * g) END
FROM generate_series(1, {n["appointments"]}) g;
CREATE INDEX appointments_starts ON appointments (starts_at);

CREATE TABLE notes (
  id bigint PRIMARY KEY, client_id bigint NOT NULL REFERENCES clients, author_id bigint NOT NULL REFERENCES agents,
  created_at timestamptz NOT NULL, pinned boolean NOT NULL, body text NOT NULL);
INSERT INTO notes
SELECT g, 1 + (random() * ({n["clients"]} - 1))::int, 1 + (random() * ({n["agents"]} - 1))::int,
       timestamptz '2019-01-01' + random() * interval '2500 days', random() < 0.05,
       pg_temp.sentence(pg_temp.words({_array(WORDS)}, 15 + (random()*60)::int + 0 * g))
FROM generate_series(1, {n["notes"]}) g;
CREATE INDEX notes_client ON notes (client_id, created_at);

ANALYZE;
"""


def checksum_sql(tables: tuple[str, ...] = TABLES) -> str:
    """SQL returning ``{table: [rows, content checksum]}`` as one JSON object.

    The checksum is order-independent (a sum of row hashes), so a restored
    table compares equal to its source whatever its physical order.
    """
    parts = ", ".join(
        f"'{t}', (SELECT json_build_array(count(*), coalesce(sum(hashtext(x::text)::bigint), 0)) FROM {t} x)"
        for t in tables
    )
    return f"SELECT json_build_object({parts});"
