// Original file: proto/peerscope/v1/peerscope.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

/**
 * Geolocation of one IP. Public addresses are looked up with ip-api (cached in the store;
 * see the server's geolocation settings); non-public addresses are never sent anywhere.
 */
export interface GeoInfo {
  /**
   * The address this describes.
   */
  'ip'?: (string);
  /**
   * Country name in English, e.g. `Germany`. For a non-public address (`private` true), its
   * kind: `loopback`, `private`, `link-local`, `cgnat`, `unique-local`, `unspecified`,
   * `multicast`, `documentation` or `reserved`. Empty when the lookup failed (see `error`).
   */
  'country'?: (string);
  /**
   * ISO 3166-1 alpha-2 country code, e.g. `DE`; empty for non-public addresses.
   */
  'countryCode'?: (string);
  /**
   * City name.
   */
  'city'?: (string);
  /**
   * Autonomous system number and name, e.g. `AS24940 Hetzner Online GmbH`.
   */
  'asn'?: (string);
  /**
   * Internet service provider.
   */
  'isp'?: (string);
  /**
   * Organization.
   */
  'org'?: (string);
  /**
   * True for a non-public address: labelled by kind in `country`, not looked up.
   */
  'private'?: (boolean);
  /**
   * When the answer was fetched from the service (or the address labelled).
   */
  'lookedUpAt'?: (_google_protobuf_Timestamp | null);
  /**
   * Why the service could not locate the address (its message, e.g. `reserved range`);
   * empty on success.
   */
  'error'?: (string);
}

/**
 * Geolocation of one IP. Public addresses are looked up with ip-api (cached in the store;
 * see the server's geolocation settings); non-public addresses are never sent anywhere.
 */
export interface GeoInfo__Output {
  /**
   * The address this describes.
   */
  'ip': (string);
  /**
   * Country name in English, e.g. `Germany`. For a non-public address (`private` true), its
   * kind: `loopback`, `private`, `link-local`, `cgnat`, `unique-local`, `unspecified`,
   * `multicast`, `documentation` or `reserved`. Empty when the lookup failed (see `error`).
   */
  'country': (string);
  /**
   * ISO 3166-1 alpha-2 country code, e.g. `DE`; empty for non-public addresses.
   */
  'countryCode': (string);
  /**
   * City name.
   */
  'city': (string);
  /**
   * Autonomous system number and name, e.g. `AS24940 Hetzner Online GmbH`.
   */
  'asn': (string);
  /**
   * Internet service provider.
   */
  'isp': (string);
  /**
   * Organization.
   */
  'org': (string);
  /**
   * True for a non-public address: labelled by kind in `country`, not looked up.
   */
  'private': (boolean);
  /**
   * When the answer was fetched from the service (or the address labelled).
   */
  'lookedUpAt': (_google_protobuf_Timestamp__Output | null);
  /**
   * Why the service could not locate the address (its message, e.g. `reserved range`);
   * empty on success.
   */
  'error': (string);
}
