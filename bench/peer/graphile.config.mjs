// PostGraphile 5 as the benchmark runs it: the amber preset on the bench database's public schema,
// served on 127.0.0.1 only, with what a production deployment would turn off turned off (no GraphiQL,
// no explain, no watch mode). `python -m bench --peer postgraphile` sets the two variables.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const connectionString = process.env.BENCH_PEER_DATABASE_URL;
const port = Number(process.env.BENCH_PEER_PORT);
if (!connectionString || !port) {
  throw new Error("set BENCH_PEER_DATABASE_URL and BENCH_PEER_PORT");
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // By default PostGraphile offers `orderBy` only on indexed columns. The gateway lists customers,
  // stock levels and returns newest first by (created_at, id), and nested items oldest first, without
  // such an index: with the plugin that hides the other columns off, the peer can be asked the same
  // order (the database does the same sort for both).
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString, schemas: ["public"] })],
  grafserv: {
    host: "127.0.0.1",
    port,
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};

export default preset;
