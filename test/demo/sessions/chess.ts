import { startChessFixture } from "../../fixtures/chess/server.ts";
import { startStdio } from "../../src/harness.ts";
import type { Transcript } from "../transcript.ts";

const LIVE_API = "https://api.chess.com/pub";

/** Chess.com questions answered over stdio: live when api.chess.com answers, always against the local stand-in. */
export async function run(t: Transcript): Promise<void> {
  if (await reachable()) {
    t.heading("the live Chess.com API");
    const live = await startStdio("chess", []);
    try {
      await t.call(live.client, "get_player", { username: "hikaru" }, "A famous profile with current ratings");
      await t.call(live.client, "get_puzzle", {}, "Today's puzzle, solution hidden");
      await t.call(
        live.client,
        "analyze_player",
        { username: "hikaru", months: 1, analyses: ["results", "openings"], openingsLimit: 5 },
        "Last month's results and openings, computed on the server",
      );
    } finally {
      await live.close();
    }
  } else {
    t.skip("api.chess.com is not reachable from here; the session below runs against the local stand-in.");
  }

  const fixture = await startChessFixture();
  t.heading("the local Chess.com stand-in (same server code, --api-base-url pointed at it)");
  const server = await startStdio("chess", ["--api-base-url", fixture.baseUrl, "--contact", "demo@example.com"]);
  try {
    await t.call(server.client, "get_player", { username: "Nimzo_Lover" }, "Who is this player? Profile and ratings");
    await t.call(
      server.client,
      "analyze_player",
      { username: "nimzo_lover" },
      "Rating history, results by colour, openings by ECO and streaks from three months of archives",
    );
    await t.call(
      server.client,
      "analyze_head_to_head",
      { username: "nimzo_lover", opponent: "endgame_emma", recent: 3 },
      "How does she do against endgame_emma?",
    );
    await t.call(
      server.client,
      "get_player_games",
      { username: "nimzo_lover", month: "2024-02", timeClass: "blitz", result: "loss" },
      "The blitz losses of February",
    );
    await t.call(server.client, "get_club", { club: "portside-chess-club" }, "Her club, description as plain text");
    await t.call(server.client, "get_puzzle", { includeSolution: true }, "The daily puzzle with its solution");
    await t.call(server.client, "get_player", { username: "ghost_player" }, "A player who does not exist");
    t.note(
      `The stand-in saw ${fixture.requests.length} request(s), never more than ${fixture.maxInFlight} in flight at once.`,
    );
  } finally {
    await server.close();
    await fixture.close();
  }
}

async function reachable(): Promise<boolean> {
  try {
    const response = await fetch(`${LIVE_API}/puzzle`, {
      signal: AbortSignal.timeout(3000),
      headers: { "user-agent": "portside-server-chess demo (+https://github.com/portside-mcp/portside)" },
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
