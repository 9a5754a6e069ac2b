import { sql } from 'drizzle-orm'
import { queryRows, type Db } from '../db/client.server'
import { looksLikeUsername } from './users.server'

/**
 * What a public profile shows (SPEC §1): the person, sessions hosted, hours streamed and watched,
 * and the milestone badges reached, in one round trip.
 *
 * Sessions hosted counts the sessions the person created, live or ended (a settlement row exists
 * only once a session ends, and only when it paid something). Hours streamed and watched come
 * from the settlement rows of the ledger (`metadata.minutes`), not from `peer_intervals`:
 * - they are the same minutes the hosting and watching milestones are measured in, so a
 *   "10 hours hosted" badge never sits next to "9.5 hours streamed";
 * - they are already merged per session (two tabs count once) and clipped to the session;
 * - the ledger is indexed by user, while `peer_intervals` is indexed by session only and is the
 *   table every join and leave webhook writes: a profile view must not scan it.
 * The cost: a session counts once it has ended and settled, not while it is live.
 */

export interface ProfileBadge {
  name: string
  label: string
  reachedAt: string
}

export interface PublicProfile {
  id: string
  username: string
  displayName: string
  bio: string
  avatarUrl: string | null
  createdAt: Date
  sessionsHosted: number
  minutesStreamed: number
  minutesWatched: number
  badges: ProfileBadge[]
}

interface ProfileRow {
  id: string
  username: string | null
  display_name: string | null
  bio: string
  avatar_url: string | null
  created_at: string | Date
  sessions_hosted: number
  minutes_streamed: number
  minutes_watched: number
  badges: Array<{
    name: string | null
    label: string | null
    reached_at: string
  }> | null
}

/**
 * The profile at `/u/:username` (any letter case), or null for an unknown or deleted account
 * and for one that has not chosen its username and display name yet.
 */
export async function getPublicProfile(
  db: Db,
  username: string,
): Promise<PublicProfile | null> {
  if (!looksLikeUsername(username)) return null
  const [row] = await queryRows<ProfileRow>(
    db,
    sql`select u.id, u.username, u.display_name, u.bio, u.avatar_url, u.created_at,
          (select count(*)::int from live_sessions s where s.host_id = u.id) as sessions_hosted,
          coalesce(a.minutes_streamed, 0)::int as minutes_streamed,
          coalesce(a.minutes_watched, 0)::int as minutes_watched,
          a.badges
        from users u
        left join lateral (
          select
            sum((t.metadata->>'minutes')::int)
              filter (where t.type = 'settlement_host') as minutes_streamed,
            sum((t.metadata->>'minutes')::int)
              filter (where t.type in ('settlement_viewer', 'settlement_presenter')) as minutes_watched,
            json_agg(json_build_object(
                'name', t.metadata->>'name',
                'label', t.metadata->>'label',
                'reached_at', t.created_at) order by t.created_at)
              filter (where t.type = 'milestone') as badges
          from credit_transactions t
          where t.user_id = u.id
            and t.type in ('settlement_host', 'settlement_viewer', 'settlement_presenter', 'milestone')
        ) a on true
        where lower(u.username) = ${username.toLowerCase()} and u.deleted_at is null`,
  )
  if (!row?.username || !row.display_name) return null
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    avatarUrl: row.avatar_url,
    createdAt: new Date(row.created_at),
    sessionsHosted: row.sessions_hosted,
    minutesStreamed: row.minutes_streamed,
    minutesWatched: row.minutes_watched,
    badges: (row.badges ?? []).map((badge) => ({
      name: badge.name ?? '',
      label: badge.label ?? badge.name ?? 'Milestone',
      reachedAt: new Date(badge.reached_at).toISOString(),
    })),
  }
}
