-- peerscope export schema, version 1: the tables.
--
-- Every table is keyed by (vantage, ...): each peerscope instance writes only the rows of
-- its own vantage, so any number of instances share one database without coordination.
-- Times are timestamptz (from the store's Unix milliseconds); node ids and message ids are
-- bytea; 64-bit unsigned values are stored as bigint (ENR sequence numbers of 2^63 and
-- above, which only a strange record carries, appear negative).

-- One row per vantage: the store it exports and how far the export got. `event_seq` and
-- `feed_seq` are the high-water marks, advanced in the transaction that writes the rows.
CREATE TABLE sink_state (
    vantage     text PRIMARY KEY,
    store_id    text NOT NULL,
    event_seq   bigint NOT NULL DEFAULT 0,
    feed_seq    bigint NOT NULL DEFAULT 0,
    version     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Crawls as the vantage stored them (upserted as they progress).
CREATE TABLE crawls (
    vantage      text NOT NULL,
    crawl_id     bigint NOT NULL,
    name         text NOT NULL,
    state        text NOT NULL,
    mode         text NOT NULL,
    network      text NOT NULL,
    cluster_id   integer,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    discovered   bigint NOT NULL,
    dials        bigint NOT NULL,
    connected    bigint NOT NULL,
    messages     bigint NOT NULL,
    error        text,
    labels       jsonb NOT NULL,
    settings     jsonb NOT NULL,
    progress     jsonb NOT NULL,
    PRIMARY KEY (vantage, crawl_id)
);

-- Peers: the newest record with its decoded fields, what dialing learned (identify,
-- metadata, RTT, state, sessions) and geolocation. Upserted on every change.
CREATE TABLE peers (
    vantage             text NOT NULL,
    node_id             bytea NOT NULL,
    peer_id             text,
    enr                 text NOT NULL,
    enr_seq             bigint NOT NULL,
    ip4                 inet,
    tcp4                integer,
    udp4                integer,
    ip6                 inet,
    tcp6                integer,
    udp6                integer,
    waku2               text[],
    cluster_id          integer,
    shards              integer[],
    multiaddrs          text[] NOT NULL,
    eth2_fork_digest    text,
    has_eth             boolean NOT NULL,
    enr_issues          text[] NOT NULL,
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    crawls              bigint[] NOT NULL,
    enr_versions        integer NOT NULL,
    sources             jsonb NOT NULL,
    state               text NOT NULL,
    reachable           boolean,
    attempts            bigint NOT NULL,
    last_dial           timestamptz,
    last_connected      timestamptz,
    last_error_class    text,
    last_error          text,
    rtt_last_us         bigint,
    rtt_avg_us          bigint,
    up_since            timestamptz,
    down_since          timestamptz,
    sessions            integer NOT NULL,
    uptime_ms           bigint NOT NULL,
    agent_version       text,
    protocol_version    text,
    protocols           text[],
    listen_addrs        text[],
    observed_addr       text,
    metadata_cluster_id integer,
    metadata_shards     integer[],
    metadata_error      text,
    country             text,
    country_code        text,
    city                text,
    asn                 text,
    isp                 text,
    org                 text,
    geo_private         boolean,
    PRIMARY KEY (vantage, node_id)
);
CREATE INDEX peers_node_id ON peers (node_id);

-- Every record version (seq) stored per node.
CREATE TABLE enr_versions (
    vantage  text NOT NULL,
    node_id  bytea NOT NULL,
    seq      bigint NOT NULL,
    enr      text NOT NULL,
    PRIMARY KEY (vantage, node_id, seq)
);

-- Every dial and its outcome. The store keeps the newest 100 per peer; the database keeps
-- them all.
CREATE TABLE visits (
    vantage             text NOT NULL,
    node_id             bytea NOT NULL,
    started             timestamptz NOT NULL,
    crawl_id            bigint NOT NULL,
    duration_ms         bigint NOT NULL,
    address             text,
    reachable           boolean NOT NULL,
    error_class         text,
    error               text,
    rtt_us              bigint,
    agent_version       text,
    protocols           text[],
    metadata_cluster_id integer,
    metadata_shards     integer[],
    metadata_error      text,
    PRIMARY KEY (vantage, node_id, started, crawl_id)
);
CREATE INDEX visits_started ON visits (started);

-- The peer event log, by the vantage's sequence numbers.
CREATE TABLE events (
    vantage      text NOT NULL,
    sequence     bigint NOT NULL,
    time         timestamptz NOT NULL,
    kind         text NOT NULL,
    crawl_id     bigint NOT NULL,
    node_id      bytea NOT NULL,
    peer_id      text,
    enr_seq      bigint NOT NULL,
    enr          text,
    error_class  text,
    detail       text,
    PRIMARY KEY (vantage, sequence)
);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_node_id ON events (node_id);

-- Relay message counts per (pubsub topic, content topic), all time ("(other)" is the
-- aggregate of content topics beyond the vantage's cap).
CREATE TABLE relay_counts (
    vantage        text NOT NULL,
    pubsub_topic   text NOT NULL,
    content_topic  text NOT NULL,
    messages       bigint NOT NULL,
    bytes          bigint NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    PRIMARY KEY (vantage, pubsub_topic, content_topic)
);

-- The same counts per minute. The store keeps 7 days of buckets; the database keeps them
-- all.
CREATE TABLE relay_buckets (
    vantage        text NOT NULL,
    pubsub_topic   text NOT NULL,
    content_topic  text NOT NULL,
    minute         timestamptz NOT NULL,
    messages       bigint NOT NULL,
    bytes          bigint NOT NULL,
    PRIMARY KEY (vantage, pubsub_topic, content_topic, minute)
);

-- Data on a pubsub topic that did not decode as a Waku message.
CREATE TABLE relay_undecodable (
    vantage       text NOT NULL,
    pubsub_topic  text NOT NULL,
    messages      bigint NOT NULL,
    bytes         bigint NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    PRIMARY KEY (vantage, pubsub_topic)
);

-- Every relay message a vantage received while its sink ran, with its gossipsub message
-- id (SHA-256 of the data, the same on every vantage): what lets the views count a
-- message seen by several vantages once. `content_topic` is the message's own (NULL when
-- the data did not decode).
CREATE TABLE relay_messages (
    vantage        text NOT NULL,
    seq            bigint NOT NULL,
    message_id     bytea NOT NULL,
    pubsub_topic   text NOT NULL,
    content_topic  text,
    bytes          bigint NOT NULL,
    seen_at        timestamptz NOT NULL,
    PRIMARY KEY (vantage, seq)
);
CREATE INDEX relay_messages_id ON relay_messages (message_id);
CREATE INDEX relay_messages_seen_at ON relay_messages (seen_at);
