import { startDnsServer } from "../../fixtures/browser/dns-server.ts";
import { startCountingServer, startSite } from "../../fixtures/browser/site.ts";
import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

/** A short browsing session on a local test shop: look, act, read, and be refused where the policy says so. */
export async function run(t: Transcript): Promise<void> {
  const other = await startCountingServer();
  const dns = await startDnsServer({ "intranet.example": ["10.1.2.3"] });
  const site = await startSite({ publicLookingName: "intranet.example", otherPort: other.port });
  t.heading(`a local test shop at ${site.origin} (the only private address the policy allows)`);
  const server = await startStdio("browser", [
    "--allow-private-hosts",
    `127.0.0.1:${site.port}`,
    "--dns-server",
    dns.address,
  ]);
  const { client } = server;
  try {
    await t.call(client, "navigate", { url: `${site.origin}/` }, "Open the shop: a short summary, not the whole page");
    const snapshot = await t.call(
      client,
      "snapshot",
      { interactiveOnly: true, maxChars: 2000 },
      "What can be done here? A compact outline with refs",
    );
    const text = snapshot.content.map((block) => (block.type === "text" ? block.text : "")).join("\n");
    const hello = /button "Say hello" \[(e\d+)\]/.exec(text)?.[1];
    if (hello) await t.call(client, "click", { ref: hello }, "Click a button: the answer says what changed");
    await t.call(client, "navigate", { url: `${site.origin}/form` }, "Go to the order form");
    await t.call(
      client,
      "fill_form",
      {
        fields: [
          { selector: "input[name=name]", value: "Ann" },
          { selector: "input[name=gift]", value: true },
          { selector: "select[name=size]", value: "Large" },
          { selector: "input[name=day]", value: "2030-05-31" },
        ],
      },
      "Fill four fields of different kinds in one call",
    );
    await t.call(client, "press_key", { key: "Enter", selector: "input[name=name]" }, "Submit with Enter");
    await t.call(client, "navigate", { url: `${site.origin}/article` }, "Open an article");
    await t.call(
      client,
      "read_page",
      { maxChars: 900 },
      "Read it as Markdown: hidden text and invisible characters are gone",
    );
    await t.call(client, "screenshot", { maxDimension: 800 }, "See it, scaled down");
    await t.call(client, "navigate", { url: "http://169.254.169.254/latest/meta-data/" }, "Cloud metadata: refused");
    await t.call(
      client,
      "navigate",
      { url: "http://intranet.example/" },
      "A name that resolves to a private address: refused after DNS",
    );
    await t.call(
      client,
      "navigate",
      { url: `${site.origin}/redirect-to-metadata` },
      "An allowed page that redirects to metadata: refused",
    );
    await t.call(client, "navigate", { url: "file:///etc/passwd" }, "A local file: refused");
  } finally {
    await server.close();
    await site.close();
    await other.close();
    await dns.close();
  }
}
