// Runs graphql-http's audit against the URL given as the first argument; prints one JSON line per
// result: {"status": "ok" | "warn" | "error", "id", "name", "reason"?}.
import { auditServer } from "graphql-http";

const results = await auditServer({ url: process.argv[2] });
for (const result of results) {
  console.log(JSON.stringify({ status: result.status, id: result.id, name: result.name,
                               reason: result.reason }));
}
