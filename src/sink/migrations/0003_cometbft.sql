-- peerscope export schema, version 3: CometBFT chains.
--
-- CometBFT peers are crawled over PEX, not discv5: their `enr` column holds the address
-- record they were learned by (`id@host:port`), and the NodeInfo they sent is kept whole
-- (`node_info`, as the store keeps it) with its network in `chain_id` for filtering and
-- grouping. Visits keep the NodeInfo sent during the visit; a CometBFT crawl keeps the
-- chain id it crawls. The columns are NULL for discv5 networks.

ALTER TABLE crawls ADD COLUMN chain_id text;

ALTER TABLE peers ADD COLUMN node_info jsonb;
ALTER TABLE peers ADD COLUMN chain_id text;
CREATE INDEX peers_chain_id ON peers (chain_id) WHERE chain_id IS NOT NULL;

ALTER TABLE visits ADD COLUMN node_info jsonb;
