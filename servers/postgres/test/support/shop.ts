/**
 * A small shop database (customers, products, orders, order items, events) plus what the attack
 * suite aims at: a private schema with secrets, a view over them, a salary table, a function that
 * would leak secrets, and a same-named stand-in for a built-in function. Also three roles: a reader
 * that can SELECT everything (so only the server's own layers keep secrets hidden), a writer, and
 * the superuser.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestDatabase } from "./database.ts";

export interface Shop {
  db: TestDatabase;
  /** Can SELECT every table, including the private ones; cannot write. */
  readerUrl: string;
  /** Can also INSERT/UPDATE orders: the server must refuse to start with it. */
  writerUrl: string;
  /** The superuser: refused too. */
  adminUrl: string;
  /** The allowlist the tests give the server. */
  allow: string;
  deny: string;
}

export const SHOP_ALLOW = "public.customers,public.products,public.orders,public.order_items,public.events";

const SAMPLE = `
CREATE TABLE public.customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text UNIQUE,
  country text NOT NULL DEFAULT 'NL',
  created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
);
COMMENT ON TABLE public.customers IS 'People who bought something';
COMMENT ON COLUMN public.customers.email IS 'Contact address, unique';
CREATE TABLE public.products (
  id serial PRIMARY KEY,
  name text NOT NULL,
  category text NOT NULL,
  price numeric(10,2) NOT NULL CHECK (price >= 0),
  stock integer NOT NULL DEFAULT 0
);
CREATE TABLE public.orders (
  id serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES public.customers(id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
  ordered_at timestamptz NOT NULL,
  total numeric(12,2) NOT NULL
);
CREATE INDEX orders_customer_idx ON public.orders (customer_id);
CREATE INDEX orders_status_date_idx ON public.orders (status, ordered_at DESC);
CREATE TABLE public.order_items (
  order_id integer NOT NULL REFERENCES public.orders(id) ON DELETE CASCADE,
  product_id integer NOT NULL REFERENCES public.products(id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE TABLE public.events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  at timestamp NOT NULL
);
INSERT INTO public.customers (name, email, country) VALUES
  ('Ada Lovelace', 'ada@example.com', 'GB'), ('Grace Hopper', 'grace@example.com', 'US'),
  ('Edsger Dijkstra', 'edsger@example.com', 'NL'), ('Barbara Liskov', 'barbara@example.com', 'US'),
  ('Niklaus Wirth', 'niklaus@example.com', 'CH');
INSERT INTO public.products (name, category, price, stock) VALUES
  ('Mechanical keyboard', 'hardware', 129.00, 12), ('Trackball', 'hardware', 89.50, 4),
  ('Monitor arm', 'hardware', 59.99, 0), ('SQL book', 'books', 39.00, 40), ('Coffee beans', 'grocery', 14.25, 100);
INSERT INTO public.orders (customer_id, status, ordered_at, total) VALUES
  (1, 'shipped', '2024-03-01 10:00+00', 168.00), (1, 'paid', '2024-04-12 09:30+00', 89.50),
  (2, 'shipped', '2024-03-15 16:45+00', 129.00), (3, 'new', '2024-05-02 11:00+00', 53.25),
  (4, 'cancelled', '2024-02-20 08:15+00', 59.99), (5, 'shipped', '2024-04-30 13:20+00', 39.00);
INSERT INTO public.order_items VALUES
  (1, 1, 1, 129.00), (1, 4, 1, 39.00), (2, 2, 1, 89.50), (3, 1, 1, 129.00),
  (4, 4, 1, 39.00), (4, 5, 1, 14.25), (5, 3, 1, 59.99), (6, 4, 1, 39.00);
INSERT INTO public.events (kind, payload, at)
  SELECT CASE WHEN g % 3 = 0 THEN 'view' WHEN g % 3 = 1 THEN 'click' ELSE 'buy' END,
         jsonb_build_object('n', g, 'tag', 'e' || g), '2024-01-01'::timestamp + g * interval '1 minute'
    FROM generate_series(1, 20000) g;
`;

/** What the attack suite aims at; never part of the demo. */
const ATTACK_FIXTURES = `
CREATE SCHEMA private;
CREATE TABLE public.staff_salaries (id serial PRIMARY KEY, name text NOT NULL, salary numeric NOT NULL);
CREATE TABLE private.secrets (id serial PRIMARY KEY, secret text NOT NULL);
CREATE TABLE private.audit (id serial PRIMARY KEY, note text NOT NULL, customer_id integer REFERENCES public.customers(id));
CREATE VIEW public.secret_view AS SELECT id, secret FROM private.secrets;
CREATE VIEW public.customer_totals AS
  SELECT c.id, c.name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent
    FROM public.customers c LEFT JOIN public.orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
CREATE SEQUENCE public.invoice_seq;
CREATE FUNCTION public.leak() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER AS 'SELECT secret FROM private.secrets';
-- A stand-in for a built-in: only reachable if the server let the search path pick it.
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT ''hijacked:'' || (SELECT string_agg(secret, '','') FROM private.secrets)';
INSERT INTO public.staff_salaries (name, salary) VALUES ('Alice', 120000), ('Bob', 95000);
INSERT INTO private.secrets (secret) VALUES ('launch-codes-0000'), ('root-password-hunter2');
INSERT INTO private.audit (note, customer_id) VALUES ('checked', 1);
`;

/**
 * Creates the shop in the test database and the three roles; `attackFixtures: false` leaves out
 * the secrets and traps (for the demo).
 */
export async function seedShop(db: TestDatabase, options: { attackFixtures?: boolean } = {}): Promise<Shop> {
  const attackFixtures = options.attackFixtures ?? true;
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  const reader = `${db.database}_reader`;
  const writer = `${db.database}_writer`;
  const readerPassword = randomBytes(9).toString("hex");
  const writerPassword = randomBytes(9).toString("hex");
  try {
    await admin.query(SAMPLE);
    if (attackFixtures) await admin.query(ATTACK_FIXTURES);
    await admin.query("ANALYZE");
    const schemas = attackFixtures ? "public, private" : "public";
    const r = pg.escapeIdentifier(reader);
    const w = pg.escapeIdentifier(writer);
    await admin.query(`
      CREATE ROLE ${r} LOGIN PASSWORD '${readerPassword}';
      GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.database)} TO ${r};
      GRANT USAGE ON SCHEMA ${schemas} TO ${r};
      GRANT SELECT ON ALL TABLES IN SCHEMA ${schemas} TO ${r};
      GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r};
      REVOKE CREATE ON SCHEMA public FROM PUBLIC;
      CREATE ROLE ${w} LOGIN PASSWORD '${writerPassword}' IN ROLE ${r};
      GRANT INSERT, UPDATE ON public.orders TO ${w};
    `);
  } finally {
    await admin.end();
  }
  return {
    db,
    readerUrl: db.urlFor(reader, readerPassword),
    writerUrl: db.urlFor(writer, writerPassword),
    adminUrl: db.adminUrl,
    allow: SHOP_ALLOW,
    deny: "public.staff_*",
  };
}

/**
 * Everything an attack could have changed, as one comparable value: every row of every user table,
 * the objects that exist, sequences, large objects, role settings, advisory locks, prepared
 * transactions and temporary tables.
 */
export async function databaseState(adminUrl: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_' ORDER BY 1, 2`,
    );
    const rows: Record<string, string> = {};
    for (const t of tables.rows) {
      const q = `${pg.escapeIdentifier(t.schema)}.${pg.escapeIdentifier(t.name)}`;
      const result = await client.query<{ digest: string }>(
        `SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS digest FROM ${q} x`,
      );
      rows[`${t.schema}.${t.name}`] = result.rows[0]?.digest ?? "";
    }
    const single = async (sql: string) => (await client.query(sql)).rows;
    return {
      rows,
      objects: await single(
        `SELECT n.nspname, c.relname, c.relkind, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2`,
      ),
      functions: await single(
        `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
      ),
      sequences: await single("SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"),
      largeObjects: await single("SELECT count(*)::int AS n FROM pg_largeobject_metadata"),
      roles: await single("SELECT rolname, rolsuper, rolcanlogin FROM pg_roles ORDER BY 1"),
      roleSettings: await single("SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting ORDER BY 1, 2"),
      advisoryLocks: await single("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"),
      preparedXacts: await single("SELECT count(*)::int AS n FROM pg_prepared_xacts"),
      autoConf: await single("SELECT count(*)::int AS n FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'"),
    };
  } finally {
    await client.end();
  }
}
