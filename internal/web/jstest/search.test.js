import { test } from "node:test";
import assert from "node:assert/strict";
import { snippetParts, unescapeHTML } from "../dist/js/search.js";

test("snippetParts splits on <mark> and unescapes the rest as text", () => {
  assert.deepEqual(snippetParts("…/shop/<mark>orders.go</mark> and <mark>x</mark>"), [
    { text: "…/shop/", mark: false }, { text: "orders.go", mark: true }, { text: " and ", mark: false }, { text: "x", mark: true },
  ]);
  // The server escapes a payload's markup: it comes back as the characters, never as elements.
  assert.deepEqual(snippetParts("&lt;img src=x onerror=alert(1)&gt; <mark>boom</mark> &amp;lt; &quot;q&quot; &#39;s"), [
    { text: "<img src=x onerror=alert(1)> ", mark: false }, { text: "boom", mark: true }, { text: " &lt; \"q\" 's", mark: false },
  ]);
  // Anything but the two markers stays text, even unescaped markup.
  assert.deepEqual(snippetParts("<b>x</b>"), [{ text: "<b>x</b>", mark: false }]);
  assert.deepEqual(snippetParts(""), []);
  assert.deepEqual(snippetParts(/** @type {any} */ (undefined)), []);
  assert.equal(unescapeHTML("&amp;amp;"), "&amp;");
});
