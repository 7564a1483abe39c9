/**
 * The shapes the Published-Data API answers with (https://www.chess.com/news/view/published-data-api).
 * Chess.com omits fields rather than sending null, so nearly everything is optional.
 */

export interface PlayerProfile {
  "@id"?: string;
  url?: string;
  username?: string;
  player_id?: number;
  title?: string;
  status?: string;
  name?: string;
  avatar?: string;
  location?: string;
  country?: string;
  joined?: number;
  last_online?: number;
  followers?: number;
  is_streamer?: boolean;
  twitch_url?: string;
  verified?: boolean;
  league?: string;
  fide?: number;
  streaming_platforms?: { type?: string; channel_url?: string }[];
}

export interface RatingPoint {
  rating?: number;
  date?: number;
  rd?: number;
  game?: string;
}

export interface GameTypeStats {
  last?: RatingPoint;
  best?: RatingPoint;
  record?: { win?: number; loss?: number; draw?: number; time_per_move?: number; timeout_percent?: number };
  tournament?: { count?: number; withdraw?: number; points?: number; highest_finish?: number };
}

/** Keys are `<rules>_<time class>` (chess_blitz, chess960_daily…) plus tactics, lessons, puzzle_rush, fide. */
export type PlayerStats = Record<string, unknown> & {
  tactics?: { highest?: RatingPoint; lowest?: RatingPoint };
  lessons?: { highest?: RatingPoint; lowest?: RatingPoint };
  puzzle_rush?: {
    best?: { total_attempts?: number; score?: number };
    daily?: { total_attempts?: number; score?: number };
  };
  fide?: number;
};

export interface GamePlayer {
  username?: string;
  rating?: number;
  result?: string;
  "@id"?: string;
  uuid?: string;
}

/** One finished game from a monthly archive. */
export interface ArchivedGame {
  url?: string;
  pgn?: string;
  time_control?: string;
  start_time?: number;
  end_time?: number;
  rated?: boolean;
  accuracies?: { white?: number; black?: number };
  tcn?: string;
  uuid?: string;
  initial_setup?: string;
  fen?: string;
  time_class?: string;
  rules?: string;
  white?: GamePlayer;
  black?: GamePlayer;
  eco?: string;
  tournament?: string;
  match?: string;
}

/** A daily game still in progress (players are API URLs, not objects). */
export interface DailyGame {
  url?: string;
  white?: string;
  black?: string;
  fen?: string;
  pgn?: string;
  turn?: string;
  move_by?: number;
  draw_offer?: string;
  last_activity?: number;
  start_time?: number;
  time_control?: string;
  time_class?: string;
  rules?: string;
  tournament?: string;
  match?: string;
}

export interface ToMoveGame {
  url?: string;
  move_by?: number;
  draw_offer?: boolean;
  last_activity?: number;
}

export interface Club {
  "@id"?: string;
  name?: string;
  club_id?: number;
  icon?: string;
  country?: string;
  average_daily_rating?: number;
  members_count?: number;
  created?: number;
  last_activity?: number;
  visibility?: string;
  join_request?: string;
  admin?: string[];
  description?: string;
  url?: string;
}

export interface ClubMember {
  username?: string;
  joined?: number;
}

export type ClubMembers = Partial<Record<"weekly" | "monthly" | "all_time", ClubMember[]>>;

export interface Leaderboards {
  [category: string]: LeaderboardEntry[] | undefined;
}

export interface LeaderboardEntry {
  player_id?: number;
  "@id"?: string;
  url?: string;
  username?: string;
  score?: number;
  rank?: number;
  country?: string;
  title?: string;
  name?: string;
  status?: string;
  avatar?: string;
  trend_score?: { direction?: number; delta?: number };
  trend_rank?: { direction?: number; delta?: number };
  flair_code?: string;
  win_count?: number;
  loss_count?: number;
  draw_count?: number;
}

export interface Puzzle {
  title?: string;
  url?: string;
  publish_time?: number;
  fen?: string;
  pgn?: string;
  image?: string;
}

export interface Streamer {
  username?: string;
  avatar?: string;
  twitch_url?: string;
  url?: string;
  is_live?: boolean;
  is_community_streamer?: boolean;
  platforms?: { type?: string; stream_url?: string; channel_url?: string; is_live?: boolean }[];
}

export interface Country {
  "@id"?: string;
  name?: string;
  code?: string;
}
