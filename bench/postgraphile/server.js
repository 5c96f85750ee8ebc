// PostGraphile v4 over docgraph's database: the anchor of the nested folder page benchmark.
//
// Environment: PORT, WORKERS (node cluster processes, like docgraph's uvicorn workers),
// and either PGHOST (a unix-socket directory) + PGDATABASE + PGUSER (+ PGPORT, PGPASSWORD)
// or DATABASE_URL. It serves only the public schema, read-only (no default mutations), with
// no GraphiQL and no query log: the same posture as the docgraph server it is compared with.
// PostGraphile evaluates no permissions: its page is unchecked, docgraph's is access-checked.
"use strict";

const cluster = require("cluster");
const http = require("http");
const { postgraphile } = require("postgraphile");

const port = parseInt(process.env.PORT || "5050", 10);
const workers = parseInt(process.env.WORKERS || "2", 10);

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on("exit", (worker, code) => {
    console.error(`worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  });
  process.on("SIGTERM", () => {
    for (const id in cluster.workers) cluster.workers[id].kill("SIGTERM");
    process.exit(0);
  });
} else {
  const database = process.env.DATABASE_URL || {
    host: process.env.PGHOST,
    port: parseInt(process.env.PGPORT || "5432", 10),
    database: process.env.PGDATABASE,
    user: process.env.PGUSER || "postgres",
    password: process.env.PGPASSWORD || undefined,
    max: parseInt(process.env.PGPOOL || "10", 10),
  };
  const middleware = postgraphile(database, "public", {
    disableDefaultMutations: true,
    graphiql: false,
    disableQueryLog: true,
    dynamicJson: true,
    watchPg: false,
    retryOnInitFail: false,
    enableQueryBatching: false,
    legacyRelations: "omit",
  });
  http.createServer(middleware).listen(port, "127.0.0.1", () => {
    console.error(`postgraphile worker ${process.pid} on http://127.0.0.1:${port}/graphql`);
  });
}
