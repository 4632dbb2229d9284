import { test } from "node:test";
import assert from "node:assert/strict";
import { readParams, seqURL, sessionsURL, originURL, readSeq } from "../dist/js/params.js";

function loc(url) {
  const u = new URL(url);
  return { search: u.search, hash: u.hash, pathname: u.pathname, port: u.port, protocol: u.protocol, host: u.host };
}
function store() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, v), m };
}

test("readParams", () => {
  const cases = [
    { url: "http://127.0.0.1:8765/#token=abc", want: { token: "abc", tokenSource: "url", sessions: [], seq: 0, cleanURL: "/" } },
    { url: "http://127.0.0.1:8765/?session=aaaa1111,bbbb2222&session=aaaa1111#token=t&seq=42", want: { token: "t", sessions: ["aaaa1111", "bbbb2222"], seq: 42, cleanURL: "/?session=aaaa1111%2Cbbbb2222&session=aaaa1111#seq=42" } },
    { url: "http://127.0.0.1:8765/#seq=7", want: { token: "", seq: 7, cleanURL: null } },
    { url: "http://127.0.0.1:8765/#seq=-1", want: { seq: 0 } },
    { url: "http://127.0.0.1:8765/#seq=abc", want: { seq: 0 } },
    { url: "http://127.0.0.1:8765/?tail=300&origin=laptop-a", want: { tail: 300, origin: "laptop-a" } },
    { url: "http://127.0.0.1:8765/?tail=-3", want: { tail: 2000 } },
    { url: "http://127.0.0.1:8765/?port=9999", want: { portNote: "The URL names port 9999, but this page always uses the daemon that served it (127.0.0.1:8765)." } },
    { url: "http://127.0.0.1:8765/?port=8765", want: { portNote: "" } },
  ];
  for (const c of cases) {
    const got = readParams(loc(c.url), store());
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k], v, `${c.url}: ${k}`);
  }
});

test("the token moves to storage and comes back from it", () => {
  const s = store();
  readParams(loc("http://127.0.0.1:8765/#token=secret"), s);
  const again = readParams(loc("http://127.0.0.1:8765/"), s);
  assert.equal(again.token, "secret");
  assert.equal(again.tokenSource, "storage");
});

test("URLs keep their other parts", () => {
  const l = loc("http://127.0.0.1:8765/?session=a&origin=x#seq=3");
  assert.equal(seqURL(l, 9), "/?session=a&origin=x#seq=9");
  assert.equal(seqURL(l, 0), "/?session=a&origin=x");
  assert.equal(sessionsURL(l, ["b", "c"]), "/?origin=x&session=b&session=c#seq=3");
  assert.equal(sessionsURL(l, null), "/?origin=x#seq=3");
  assert.equal(originURL(l, ""), "/?session=a#seq=3");
  assert.equal(readSeq("#token=x&seq=12"), 12);
});
