#!/usr/bin/env python3
"""Seeds a Portcullis database with a large pool of live project tokens for bench/introspect.sh.

The base data (owner, team, projects, OAuth app, backend credential) is created with the
operator CLI, exactly as an operator would; the bulk (users, memberships, grants) is inserted
directly, because issuing 100k tokens through the OAuth flow would take hours.

Layout (defaults): one team `bench`, 10 projects `p0`..`p9`, 1,000 extra users, each a
`developer` member of the team, every 10th of them also project admin of one project, and
100 grants per user (project-scoped, spread round-robin over the projects) -> 100,000 grants,
all from one confidential app, non-expiring.

Tokens are written one per line to --tokens; the backend credential (client_id:client_secret)
to --backend. Only the standard library is used: sqlite3 for SQLite, `psql` (COPY) for
PostgreSQL.
"""

import argparse
import base64
import datetime
import hashlib
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time

TEAM = "bench"


def cli(binary, url, *args):
    """Runs one `portcullis admin` command and returns its JSON output."""
    out = subprocess.run(
        [binary, "--database-url", url, "admin", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PORTCULLIS_LOG": "warn"},
    )
    return json.loads(out.stdout)


def new_token(project):
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    assert len(secret) == 43
    token = f"project:{TEAM}:{project}|{secret}"
    return token, hashlib.sha256(token.encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True, help="sqlite://PATH or postgres://...")
    ap.add_argument("--portcullis", default="target/release/portcullis", help="the server binary (for its CLI)")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--grants-per-user", type=int, default=100)
    ap.add_argument("--projects", type=int, default=10)
    ap.add_argument("--tokens", required=True, help="output: one token per line")
    ap.add_argument("--backend", required=True, help="output: client_id:client_secret of a backend credential")
    args = ap.parse_args()
    url = args.database_url
    started = time.monotonic()

    # --- base data through the operator CLI ---------------------------------------------
    owner = "owner@bench.example"
    cli(args.portcullis, url, "user", "create", "--email", owner, "--name", "Bench Owner",
        "--password", "bench-password-123")
    cli(args.portcullis, url, "team", "create", "--slug", TEAM, "--name", "Bench", "--owner", owner)
    projects = [f"p{i}" for i in range(args.projects)]
    for p in projects:
        cli(args.portcullis, url, "project", "create", "--team", TEAM, "--slug", p, "--name", f"Project {p}")
    app = cli(args.portcullis, url, "app", "create", "--team", TEAM, "--name", "Bench App",
              "--redirect-uri", "https://bench.example/cb")
    backend = cli(args.portcullis, url, "backend", "create", "--name", "bench-backend")
    with open(args.backend, "w") as f:
        f.write(f"{backend['client_id']}:{backend['client_secret']}\n")
    print(f"seed: base data via CLI in {time.monotonic() - started:.1f}s", file=sys.stderr)

    # --- bulk rows -----------------------------------------------------------------------
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # diesel's SQLite TEXT form; PostgreSQL parses it too
    emails = [f"user{i:05d}@bench.example" for i in range(args.users)]
    # (email, project slug, token hash); tokens go to the file in the same order.
    grants = []
    with open(args.tokens, "w") as tf:
        n = 0
        for email in emails:
            for _ in range(args.grants_per_user):
                project = projects[n % len(projects)]
                token, digest = new_token(project)
                tf.write(token + "\n")
                grants.append((email, project, digest))
                n += 1
    # every 10th user is project admin of one project (exercises the project_admins join)
    admins = [(email, projects[i % len(projects)]) for i, email in enumerate(emails) if i % 10 == 0]

    if url.startswith("sqlite://"):
        seed_sqlite(url[len("sqlite://"):], stamp, emails, grants, admins, app["client_id"])
    elif url.startswith(("postgres://", "postgresql://")):
        seed_postgres(url, stamp, emails, grants, admins, app["client_id"])
    else:
        sys.exit(f"unsupported database URL {url}")
    print(f"seed: {len(emails)} users, {len(grants)} grants in {time.monotonic() - started:.1f}s", file=sys.stderr)


def bulk_sql(ts):
    """Moves the staging tables into the real ones; `ts` is a timestamp literal expression."""
    return f"""
INSERT INTO users (email, name, password_hash, created_at)
  SELECT b.email, 'Bench user', o.password_hash, {ts}
  FROM bench_users b, users o WHERE o.email = 'owner@bench.example';
INSERT INTO members (team_id, user_id, role, created_at)
  SELECT t.id, u.id, 'developer', {ts}
  FROM bench_users b JOIN users u ON u.email = b.email, teams t WHERE t.slug = '{TEAM}';
INSERT INTO project_admins (member_id, project_id, created_at)
  SELECT m.id, p.id, {ts}
  FROM bench_admins b
  JOIN users u ON u.email = b.email
  JOIN teams t ON t.slug = '{TEAM}'
  JOIN members m ON m.team_id = t.id AND m.user_id = u.id
  JOIN projects p ON p.team_id = t.id AND p.slug = b.project;
INSERT INTO grants (app_id, user_id, team_id, project_id, member_id, scope, access_token_hash,
                    access_token_issued_at, created_at)
  SELECT a.id, u.id, t.id, p.id, m.id, 'project', g.hash, {ts}, {ts}
  FROM bench_grants g
  JOIN users u ON u.email = g.email
  JOIN teams t ON t.slug = '{TEAM}'
  JOIN projects p ON p.team_id = t.id AND p.slug = g.project
  JOIN members m ON m.team_id = t.id AND m.user_id = u.id
  JOIN oauth_apps a ON a.client_id = :client_id
  ORDER BY g.seq;
"""


def seed_sqlite(path, stamp, emails, grants, admins, client_id):
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA foreign_keys = ON;
        CREATE TEMP TABLE bench_users (email TEXT);
        CREATE TEMP TABLE bench_admins (email TEXT, project TEXT);
        CREATE TEMP TABLE bench_grants (seq INTEGER, email TEXT, project TEXT, hash TEXT);
    """)
    with db:
        db.executemany("INSERT INTO bench_users VALUES (?)", ((e,) for e in emails))
        db.executemany("INSERT INTO bench_admins VALUES (?, ?)", admins)
        db.executemany("INSERT INTO bench_grants VALUES (?, ?, ?, ?)",
                       ((i, *g) for i, g in enumerate(grants)))
        for statement in bulk_sql(f"'{stamp}'").split(";"):
            if statement.strip():
                db.execute(statement, {"client_id": client_id} if ":client_id" in statement else {})
    # No ANALYZE: the server never runs it, so a real SQLite database has no statistics.
    db.commit()
    db.close()


def seed_postgres(url, stamp, emails, grants, admins, client_id):
    def copy_block(table, rows):
        buf = io.StringIO()
        buf.write(f"COPY {table} FROM STDIN;\n")
        for row in rows:
            buf.write("\t".join(str(c) for c in row) + "\n")
        buf.write("\\.\n")
        return buf.getvalue()

    script = io.StringIO()
    script.write("\\set ON_ERROR_STOP on\nBEGIN;\n")
    script.write("CREATE TEMP TABLE bench_users (email TEXT);\n")
    script.write("CREATE TEMP TABLE bench_admins (email TEXT, project TEXT);\n")
    script.write("CREATE TEMP TABLE bench_grants (seq INTEGER, email TEXT, project TEXT, hash TEXT);\n")
    script.write(copy_block("bench_users", ((e,) for e in emails)))
    script.write(copy_block("bench_admins", admins))
    script.write(copy_block("bench_grants", ((i, *g) for i, g in enumerate(grants))))
    # client ids are hex: safe to inline
    assert all(c in "0123456789abcdef" for c in client_id), client_id
    script.write(bulk_sql(f"TIMESTAMP '{stamp}'").replace(":client_id", f"'{client_id}'"))
    # PostgreSQL's autovacuum would analyze the new rows within a minute anyway.
    script.write("COMMIT;\nANALYZE;\n")
    subprocess.run(["psql", "-q", "-X", "-d", url], input=script.getvalue(), text=True, check=True,
                   stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
