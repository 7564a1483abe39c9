import { defineServer } from "@portside/shared";
import { ChessComClient } from "./chesscom/client.js";
import { chessOptions, PACKAGE, userAgent } from "./config.js";
import { analyzePlayerTool, headToHeadTool } from "./tools/analysis.js";
import { clubTool } from "./tools/club.js";
import { countryTool } from "./tools/country.js";
import { gamesTool } from "./tools/games.js";
import { listPlayersTool } from "./tools/lists.js";
import { matchTool } from "./tools/match.js";
import { playerTool } from "./tools/player.js";
import { puzzleTool } from "./tools/puzzle.js";
import { tournamentTool } from "./tools/tournament.js";

const INSTRUCTIONS = `Chess.com public data (players, games, clubs, tournaments, team matches, countries, leaderboards, puzzles, streamers) through the Published-Data API.
- get_player for a profile and ratings; get_player_games for archives, a month of games (filterable) or its PGN, and daily games.
- analyze_player and analyze_head_to_head compute rating history, results by time class and colour, openings by ECO, streaks and head-to-head on the server: prefer them to paging through raw games.
- Chess.com refreshes most data at most every 12 hours; answers are cached and revalidated.`;

export const chessServer = defineServer({
  info: {
    name: PACKAGE.name,
    version: PACKAGE.version,
    title: "Chess.com",
    description: "Chess.com players, games, clubs, tournaments and analysis over the Published-Data API.",
    bin: "portside-chess",
  },
  options: chessOptions,
  start(config, env) {
    const log = env.log.child("chess.com");
    const client = new ChessComClient({
      baseUrl: config.apiBaseUrl,
      userAgent: userAgent(config.contact),
      timeoutMs: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
      maxRetryWaitMs: config.maxRetryWaitSeconds * 1000,
      cacheBytes: config.cacheMb * 1024 * 1024,
      maxResponseBytes: config.maxResponseMb * 1024 * 1024,
      onExchange: (e) =>
        log.debug("chess.com request", { url: e.url, status: e.status, ms: Math.round(e.ms), attempt: e.attempt }),
    });
    const limits = { maxMonths: config.maxMonths };
    return {
      instructions: INSTRUCTIONS,
      tools: [
        playerTool(client),
        gamesTool(client),
        analyzePlayerTool(client, limits),
        headToHeadTool(client, limits),
        clubTool(client),
        tournamentTool(client),
        matchTool(client),
        countryTool(client),
        listPlayersTool(client),
        puzzleTool(client),
      ],
      close: () => client.close(),
    };
  },
});
