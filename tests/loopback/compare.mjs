// Sends the same REST calls, in order, to a LoopBack 3 server and to habtm's seed server
// (both started empty), and prints a Markdown table of the two answers side by side.
//
//   node compare.mjs http://127.0.0.1:3100 http://127.0.0.1:3977 > ../../docs/loopback-parity.md

const [loopback, habtm] = process.argv.slice(2);

const json = (body) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const calls = [
  ["POST", "/Assemblies", json({ name: "engine" })],
  ["POST", "/Assemblies/1/parts", json({ partNumber: "B-100" })],
  ["POST", "/Parts", json({ partNumber: "N-200" })],
  ["PUT", "/Assemblies/1/parts/rel/2"],
  ["HEAD", "/Assemblies/1/parts/rel/2"],
  ["GET", "/Assemblies/1/parts?filter=" + encodeURIComponent('{"where":{"partNumber":{"like":"N%"}},"order":"partNumber DESC","limit":5}')],
  ["GET", "/Assemblies/1/parts?filter[where][partNumber]=B-100"],
  ["GET", "/Parts?filter[where][id][inq][0]=1&filter[where][id][inq][1]=2&filter[order]=id"],
  ["GET", "/Parts?filter[limit]=1&filter[order]=id%20DESC"],
  ["GET", "/Assemblies/1/parts/count?where=" + encodeURIComponent('{"partNumber":"B-100"}')],
  ["GET", "/Parts/count?where[id]=2"],
  ["GET", "/Assemblies?filter=" + encodeURIComponent('{"include":"parts"}')],
  ["GET", "/Assemblies?filter[include]=parts"],
  ["GET", "/Assemblies/1?filter=" + encodeURIComponent('{"include":{"relation":"parts","scope":{"where":{"partNumber":"N-200"}}}}')],
  ["GET", "/Parts/2?filter=" + encodeURIComponent('{"fields":["partNumber"]}')],
  ["GET", "/Parts/findOne?filter=" + encodeURIComponent('{"where":{"partNumber":"N-200"}}')],
  ["GET", "/Parts/findOne?filter=" + encodeURIComponent('{"where":{"partNumber":"none"}}')],
  ["GET", "/Assemblies/1/parts/2"],
  ["GET", "/Parts/2/assemblies"],
  ["GET", "/Parts/2/exists"],
  ["HEAD", "/Parts/2"],
  ["PATCH", "/Parts/2", json({ partNumber: "N-201" })],
  ["PUT", "/Parts/2", json({ partNumber: "N-202" })],
  ["POST", "/Parts/2/replace", json({ partNumber: "N-203" })],
  ["PUT", "/Parts", json({ id: 2, partNumber: "N-204" })],
  ["PATCH", "/Parts", json({ id: 2, partNumber: "N-205" })],
  ["POST", "/Parts/replaceOrCreate", json({ partNumber: "X-1" })],
  ["POST", "/Parts/upsertWithWhere?where=" + encodeURIComponent('{"partNumber":"X-1"}'), json({ partNumber: "X-2" })],
  ["POST", "/Parts/update?where=" + encodeURIComponent('{"partNumber":"X-2"}'), json({ partNumber: "X-3" })],
  ["DELETE", "/Parts/3"],
  ["DELETE", "/Assemblies/1/parts/rel/2"],
  ["GET", "/Assemblies/1/parts/2"],
  ["GET", "/Parts?filter=" + encodeURIComponent('{"where":{"partNumbr":"x"}}')],
  ["POST", "/Parts", json({ partNumber: "X", colour: "red" })],
  ["POST", "/Parts", json({})],
  ["GET", "/Parts/999"],
  ["GET", "/Widgets"],
  ["DELETE", "/Assemblies/1/parts/1"],
  ["GET", "/Assemblies/1/parts"],
];

async function send(base, [method, path, init = {}]) {
  const response = await fetch(base + path, { method, ...init });
  const text = await response.text();
  return { status: response.status, body: text };
}

const cell = (answer) => `${answer.status} \`${answer.body.replaceAll("|", "\\|") || "(empty)"}\``;
console.log("| call | LoopBack 3 | habtm | same |");
console.log("|---|---|---|---|");
let same = 0;
for (const call of calls) {
  const [a, b] = [await send(loopback, call), await send(habtm, call)];
  const equal = a.status === b.status && a.body === b.body;
  const sameJson = (() => {
    try {
      return a.status === b.status && JSON.stringify(sort(JSON.parse(a.body || "null"))) === JSON.stringify(sort(JSON.parse(b.body || "null")));
    } catch {
      return false;
    }
  })();
  if (equal || sameJson) same += 1;
  const label = `${call[0]} ${decodeURIComponent(call[1])}${call[2] ? " " + call[2].body : ""}`;
  console.log(`| \`${label.replaceAll("|", "\\|")}\` | ${cell(a)} | ${cell(b)} | ${equal || sameJson ? "yes" : "**no**"} |`);
}
console.log(`\n${same} of ${calls.length} answers are the same (status, and body as JSON with keys in any order).`);

function sort(value) {
  if (Array.isArray(value)) return value.map(sort);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sort(value[k])]));
  }
  return value;
}
