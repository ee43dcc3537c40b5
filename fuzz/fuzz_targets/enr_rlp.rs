//! ENR RLP bytes: `record::decode_enr_rlp` (the peer-exchange path) on arbitrary bytes, and
//! the decoding of every key peerscope reads (Waku `waku2`, `multiaddrs`, `rs`, `rsv`;
//! Ethereum `eth2`, `attnets`, `syncnets`, `eth`; the EIP-778 standard keys).
//!
//! A fuzzer cannot forge signatures, so the key/value pairs of the input's RLP list are
//! also signed with a key of the harness's own: any peer can sign any content with its own
//! key, so this is exactly what a hostile record can carry.
#![no_main]

use std::sync::OnceLock;

use alloy_rlp::{Bytes, Header};
use enr::CombinedKey;
use libfuzzer_sys::fuzz_target;
use peerscope::protocol::enr::{
    bitvector_ids, decode_attnets, decode_enr_rlp, decode_eth2, decode_multiaddrs, decode_rs,
    decode_rsv, decode_syncnets, decode_waku2, encode_multiaddrs, encode_rs, encode_rsv, parse_enr,
    peer_id_of, DecodedEnr, Enr, ShardEncoding,
};

fn key() -> &'static CombinedKey {
    static KEY: OnceLock<CombinedKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut secret = [0u8; 32];
        secret[31] = 7;
        CombinedKey::secp256k1_from_bytes(&mut secret).expect("a valid scalar")
    })
}

/// One RLP item at the start of `buf`: (its payload, the whole item with its header).
fn item<'a>(buf: &mut &'a [u8]) -> Option<(Header, &'a [u8], &'a [u8])> {
    let start = *buf;
    let header = Header::decode(buf).ok()?;
    let payload = buf.get(..header.payload_length)?;
    *buf = &buf[header.payload_length..];
    let whole = &start[..start.len() - buf.len()];
    Some((header, payload, whole))
}

/// The key/value pairs of `[signature, seq, k1, v1, k2, v2, ...]`, values as raw RLP items.
fn content_pairs(data: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut buf = data;
    let (outer, payload, _) = item(&mut buf)?;
    if !outer.list {
        return None;
    }
    let mut rest = payload;
    item(&mut rest)?; // signature
    item(&mut rest)?; // seq
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        let (kh, k, _) = item(&mut rest)?;
        let (_, _, v) = item(&mut rest)?;
        if kh.list {
            return None;
        }
        pairs.push((k.to_vec(), v.to_vec()));
    }
    Some(pairs)
}

fn check_record(enr: &Enr) {
    let decoded = DecodedEnr::from_enr(enr);
    let _ = peer_id_of(enr);
    let _ = (decoded.attnet_ids(), decoded.syncnet_ids());
    if let Some(shards) = &decoded.shards {
        assert!(
            shards.shards.windows(2).all(|w| w[0] < w[1]),
            "sorted, distinct"
        );
        assert!(shards.shards.iter().all(|&s| s <= 1023));
        match shards.encoding {
            ShardEncoding::Rs => assert_eq!(decode_rs(&shards.raw).as_ref(), Ok(shards)),
            ShardEncoding::Rsv => assert_eq!(decode_rsv(&shards.raw).as_ref(), Ok(shards)),
        }
    }
    let json = serde_json::to_vec(&decoded).expect("serializes");
    let back: DecodedEnr = serde_json::from_slice(&json).expect("deserializes");
    assert_eq!(back, decoded);
    // Whatever the record holds, its text and RLP forms read back to it.
    match parse_enr(&decoded.text) {
        Ok(again) => assert_eq!(&again, enr),
        Err(e) => panic!("text of a signed record does not parse: {e}"),
    }
    assert_eq!(decode_enr_rlp(&alloy_rlp::encode(enr)).as_ref(), Ok(enr));
}

fn check_key_decoders(value: &[u8]) {
    let _ = decode_waku2(value);
    if let Ok(s) = decode_rs(value) {
        // Re-encoding the decoded shards gives an rs value that decodes the same.
        let again = decode_rs(&encode_rs(s.cluster, &s.shards)).expect("re-encoded rs decodes");
        assert_eq!((again.cluster, again.shards), (s.cluster, s.shards));
    }
    if let Ok(s) = decode_rsv(value) {
        assert_eq!(encode_rsv(s.cluster, &s.shards), value, "rsv is canonical");
    }
    if let Ok(addrs) = decode_multiaddrs(value) {
        // Encoding drops what it cannot write (a bare `/p2p-circuit`), never more.
        let again = decode_multiaddrs(&encode_multiaddrs(&addrs)).expect("re-encoded decodes");
        assert!(again.len() <= addrs.len());
    }
    let _ = decode_eth2(value);
    let _ = decode_attnets(value);
    let _ = decode_syncnets(value);
    let ids = bitvector_ids(value);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

fuzz_target!(|data: &[u8]| {
    // The bytes as a peer-exchange record.
    if let Ok(enr) = decode_enr_rlp(data) {
        check_record(&enr);
    }
    // The bytes' content, re-signed.
    if let Some(pairs) = content_pairs(data) {
        let mut builder = Enr::builder();
        for (k, v) in &pairs {
            builder.add_value_rlp(k, Bytes::from(v.clone()));
        }
        // The builder is more lenient than the decoder (a `tcp` that is no u16, say): what
        // counts is what a receiver decodes.
        if let Ok(enr) = builder.build(key()) {
            if let Ok(received) = decode_enr_rlp(&alloy_rlp::encode(&enr)) {
                check_record(&received);
            }
        }
        for (_, v) in &pairs {
            let mut v = v.as_slice();
            if let Some((h, payload, _)) = item(&mut v) {
                if !h.list {
                    check_key_decoders(payload);
                }
            }
        }
    }
    // The bytes as one key's value.
    check_key_decoders(data);
});
