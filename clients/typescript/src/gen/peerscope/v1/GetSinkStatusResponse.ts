// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface GetSinkStatusResponse {
  /**
   * False when the server runs without a sink; every other field is then empty.
   */
  'enabled'?: (boolean);
  /**
   * This server's vantage name: every row it exports carries it.
   */
  'vantage'?: (string);
  /**
   * The database as `user@host:port/dbname` (never the password).
   */
  'database'?: (string);
  /**
   * Whether the sink holds a working connection: false from a failure until it connects
   * again.
   */
  'connected'?: (boolean);
  /**
   * Stored peer events not exported yet (`peerscope_sink_lag_events`).
   */
  'lagEvents'?: (number | string | Long);
  /**
   * Visits, ENR versions and relay message sightings queued for export.
   */
  'lagFeed'?: (number | string | Long);
  /**
   * Changed rows (peers, crawls, relay counts) waiting to be exported.
   */
  'pendingChanges'?: (number | string | Long);
  /**
   * True when `lag_events`, `lag_feed` and `pending_changes` are all 0: the database holds
   * everything the store does.
   */
  'caughtUp'?: (boolean);
  /**
   * The last event sequence number the database holds.
   */
  'exportedEventSequence'?: (number | string | Long);
  /**
   * The last event sequence number stored.
   */
  'lastEventSequence'?: (number | string | Long);
  /**
   * Rows written since the server started (inserted or updated), per table
   * (`peerscope_sink_rows_total`).
   */
  'rows'?: ({[key: string]: number | string | Long});
  /**
   * Batches committed since the server started.
   */
  'batches'?: (number | string | Long);
  /**
   * Failed attempts since the server started: connecting, migrating or writing
   * (`peerscope_sink_errors_total`).
   */
  'errors'?: (number | string | Long);
  /**
   * The last failure's message; empty when none.
   */
  'lastError'?: (string);
  /**
   * When it happened.
   */
  'lastErrorTime'?: (_google_protobuf_Timestamp | null);
  /**
   * When the last batch was committed.
   */
  'lastExportTime'?: (_google_protobuf_Timestamp | null);
  /**
   * Times the whole store was queued for export again: the first export to a database,
   * or after the export feed dropped entries before they were exported.
   */
  'backfills'?: (number | string | Long);
}

export interface GetSinkStatusResponse__Output {
  /**
   * False when the server runs without a sink; every other field is then empty.
   */
  'enabled': (boolean);
  /**
   * This server's vantage name: every row it exports carries it.
   */
  'vantage': (string);
  /**
   * The database as `user@host:port/dbname` (never the password).
   */
  'database': (string);
  /**
   * Whether the sink holds a working connection: false from a failure until it connects
   * again.
   */
  'connected': (boolean);
  /**
   * Stored peer events not exported yet (`peerscope_sink_lag_events`).
   */
  'lagEvents': (string);
  /**
   * Visits, ENR versions and relay message sightings queued for export.
   */
  'lagFeed': (string);
  /**
   * Changed rows (peers, crawls, relay counts) waiting to be exported.
   */
  'pendingChanges': (string);
  /**
   * True when `lag_events`, `lag_feed` and `pending_changes` are all 0: the database holds
   * everything the store does.
   */
  'caughtUp': (boolean);
  /**
   * The last event sequence number the database holds.
   */
  'exportedEventSequence': (string);
  /**
   * The last event sequence number stored.
   */
  'lastEventSequence': (string);
  /**
   * Rows written since the server started (inserted or updated), per table
   * (`peerscope_sink_rows_total`).
   */
  'rows': ({[key: string]: string});
  /**
   * Batches committed since the server started.
   */
  'batches': (string);
  /**
   * Failed attempts since the server started: connecting, migrating or writing
   * (`peerscope_sink_errors_total`).
   */
  'errors': (string);
  /**
   * The last failure's message; empty when none.
   */
  'lastError': (string);
  /**
   * When it happened.
   */
  'lastErrorTime': (_google_protobuf_Timestamp__Output | null);
  /**
   * When the last batch was committed.
   */
  'lastExportTime': (_google_protobuf_Timestamp__Output | null);
  /**
   * Times the whole store was queued for export again: the first export to a database,
   * or after the export feed dropped entries before they were exported.
   */
  'backfills': (string);
}
