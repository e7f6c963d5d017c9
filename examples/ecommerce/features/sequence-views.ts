import { col, countDistinct, countWhere, featureView, previous, sessions } from 'larder';
import { user } from './entities.ts';
import { userEvents } from './sources.ts';

const eventType = col('eventType');
/** The original pipeline's 30-minute gap sessions. */
const visits = sessions({ gap: '30m' });

export const userSessions = featureView({
  name: 'user_sessions',
  entities: [user],
  source: userEvents,
  keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(),
  ttl: '30d',
  description: 'How a shopper’s sessions go (30-minute gap sessions).',
  features: {
    session_count_7d: visits.count({ window: '7d' }),
    converted_sessions_7d: visits.count({ containing: eventType.eq('purchase'), window: '7d' }),
    avg_session_duration_7d_s: visits.avgDuration({ window: '7d' }),
    current_session_events: visits.current.count(),
    current_session_page_views: visits.current.count({ where: eventType.eq('page_view') }),
    current_session_duration_s: visits.current.duration(),
  },
});

/**
 * The original pipeline's alert rules as features (a click under 100 ms after the previous
 * event; a new IP), and how many IPs a user came from in a day.
 */
export const userRisk = featureView({
  name: 'user_risk',
  entities: [user],
  source: userEvents,
  keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(),
  ttl: '30d',
  description: 'Signs of automated behaviour: very fast events, changing IPs.',
  features: {
    fast_events_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
    ip_changes_1h: countWhere(previous.changed(col('context.ip')), { window: '1h' }),
    distinct_ips_24h: countDistinct(col('context.ip'), { window: '24h' }),
  },
});
