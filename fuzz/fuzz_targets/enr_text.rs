//! ENR text form: `record::parse_enr` on arbitrary text, then everything the crawler does
//! with a record it accepted (decode the known keys, derive the peer id, store it as JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerscope::protocol::enr::{decode_enr_rlp, parse_enr, peer_id_of, DecodedEnr};

fuzz_target!(|data: &[u8]| {
    // Text arrives as gRPC strings, DNS TXT records (lossy UTF-8) and config files.
    let text = String::from_utf8_lossy(data);
    let Ok(enr) = parse_enr(&text) else {
        return;
    };
    let decoded = DecodedEnr::from_enr(&enr);
    let _ = peer_id_of(&enr);
    let _ = (
        decoded.attnet_ids(),
        decoded.syncnet_ids(),
        decoded.node_id_hex(),
    );

    // The canonical text and the RLP bytes of an accepted record are accepted again and
    // give the same record.
    let again = parse_enr(&decoded.text).expect("the canonical text of an accepted record parses");
    assert_eq!(again, enr);
    let rlp = alloy_rlp::encode(&enr);
    assert_eq!(decode_enr_rlp(&rlp).expect("its RLP decodes"), enr);

    // The store keeps the decoded record as JSON.
    let json = serde_json::to_vec(&decoded).expect("serializes");
    let back: DecodedEnr = serde_json::from_slice(&json).expect("deserializes");
    assert_eq!(back, decoded);
});
