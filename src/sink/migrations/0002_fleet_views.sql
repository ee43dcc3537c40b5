-- peerscope export schema, version 2: the fleet views (see the README for a query per
-- view). They read the tables of every vantage; "(union)" rows combine all vantages.

-- Per vantage: the peers it stored and how its last dials went (the numbers of that
-- server's GetNetworkStats).
CREATE VIEW vantage_peers AS
SELECT vantage,
       count(*)                                  AS peers,
       count(*) FILTER (WHERE reachable)         AS reachable,
       count(*) FILTER (WHERE NOT reachable)     AS unreachable,
       count(*) FILTER (WHERE reachable IS NULL) AS not_dialed,
       min(first_seen)                           AS first_seen,
       max(last_seen)                            AS last_seen
FROM peers
GROUP BY vantage;

-- Per peer: the vantages that stored it (n of the fleet's), the ones whose last dial
-- reached it (k), and each one's average RTT in microseconds.
CREATE VIEW peer_reachability AS
SELECT node_id,
       max(peer_id)                                                   AS peer_id,
       count(*)                                                       AS seen_by,
       count(*) FILTER (WHERE reachable)                              AS reached_by,
       (SELECT count(*) FROM sink_state)                              AS vantages,
       array_agg(vantage ORDER BY vantage)                            AS seen_from,
       coalesce(array_agg(vantage ORDER BY vantage) FILTER (WHERE reachable),
                '{}')                                                 AS reached_from,
       coalesce(jsonb_object_agg(vantage, rtt_avg_us) FILTER (WHERE rtt_avg_us IS NOT NULL),
                '{}')                                                 AS rtt_avg_us,
       min(rtt_avg_us)                                                AS best_rtt_us
FROM peers
GROUP BY node_id;

-- Sessions of each peer as each vantage saw them, derived from its visits the way the
-- store counts them: a session starts at a reachable visit after an unreachable one (or
-- the first visit) and ends at the next unreachable visit; `ended` is NULL while it lasts.
CREATE VIEW sessions AS
WITH ordered AS (
    SELECT vantage, node_id, started, crawl_id, reachable,
           lag(reachable) OVER (PARTITION BY vantage, node_id ORDER BY started, crawl_id) AS prev
    FROM visits
), edges AS (
    SELECT vantage, node_id, started, reachable,
           lead(started) OVER (PARTITION BY vantage, node_id ORDER BY started, crawl_id) AS next_edge
    FROM ordered
    WHERE (reachable AND prev IS NOT TRUE) OR (NOT reachable AND prev IS TRUE)
)
SELECT vantage,
       node_id,
       started,
       next_edge                                                    AS ended,
       (extract(epoch FROM next_edge - started) * 1000)::bigint     AS duration_ms
FROM edges
WHERE reachable;

-- Network size per hour: distinct peers each vantage had events of (discovered, dialed,
-- updated...) and reached, and the same over the union of vantages.
CREATE VIEW network_size AS
SELECT date_trunc('hour', time)                                  AS hour,
       coalesce(vantage, '(union)')                              AS vantage,
       count(DISTINCT node_id)                                   AS peers,
       count(DISTINCT node_id) FILTER (WHERE kind = 'connected') AS reachable
FROM events
GROUP BY GROUPING SETS ((date_trunc('hour', time), vantage), (date_trunc('hour', time)));

-- Per crawl: the peers it stored (GetNetworkStats with that crawl id) and how many of
-- them the vantage's last dial reached.
CREATE VIEW crawl_sizes AS
SELECT c.vantage, c.crawl_id, c.name, c.state, c.created_at, c.finished_at,
       count(p.node_id)                             AS peers,
       count(p.node_id) FILTER (WHERE p.reachable)  AS reachable_now
FROM crawls c
LEFT JOIN peers p ON p.vantage = c.vantage AND c.crawl_id = ANY (p.crawls)
GROUP BY c.vantage, c.crawl_id, c.name, c.state, c.created_at, c.finished_at;

-- One row per distinct relay message over all vantages (by message id): when it was
-- first and last seen, by how many vantages, and how many sightings in all.
CREATE VIEW relay_messages_union AS
SELECT message_id,
       pubsub_topic,
       content_topic,
       min(seen_at)             AS first_seen,
       max(seen_at)             AS last_seen,
       max(bytes)               AS bytes,
       count(DISTINCT vantage)  AS vantages,
       count(*)                 AS sightings
FROM relay_messages
GROUP BY message_id, pubsub_topic, content_topic;

-- Message rates per pubsub and content topic per minute (of first sighting), summed
-- over vantages with a message seen by several vantages counted once.
CREATE VIEW relay_message_rates AS
SELECT date_trunc('minute', first_seen) AS minute,
       pubsub_topic,
       content_topic,
       count(*)                         AS messages,
       sum(bytes)::bigint               AS bytes,
       sum(sightings)::bigint           AS sightings
FROM relay_messages_union
GROUP BY 1, 2, 3;

-- The same, all time.
CREATE VIEW relay_topic_totals AS
SELECT pubsub_topic,
       content_topic,
       count(*)                 AS messages,
       sum(bytes)::bigint       AS bytes,
       sum(sightings)::bigint   AS sightings,
       max(vantages)            AS max_vantages,
       min(first_seen)          AS first_seen,
       max(last_seen)           AS last_seen
FROM relay_messages_union
GROUP BY 1, 2;
