//! CometBFT PEX (channel 0): `cometbft::pex::decode` of a channel message, then
//! `pex::validate` of an address list as the crawler does (cap 250). A list that validates
//! accounts for every entry; what we send back encodes and decodes to the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerscope::protocol::cometbft::pex::{self, PexMessage, MAX_GET_SELECTION};

fuzz_target!(|data: &[u8]| {
    let Ok(message) = pex::decode(data) else {
        return;
    };
    match message {
        PexMessage::Request => {
            assert_eq!(pex::decode(&pex::encode_request()), Ok(PexMessage::Request));
        }
        PexMessage::Addrs(list) => {
            if let Ok(valid) = pex::validate(&list, MAX_GET_SELECTION) {
                assert_eq!(valid.addrs.len() + valid.unusable, list.len());
                for a in &valid.addrs {
                    assert_ne!(a.addr.port(), 0);
                    assert!(!a.addr.ip().is_unspecified());
                    // A validated address prints as id@ip:port and parses back.
                    assert_eq!(a.to_string().parse(), Ok(*a));
                }
                let back: Vec<_> = valid.addrs.iter().map(|a| a.to_proto()).collect();
                let again = pex::decode(&pex::encode_addrs(back.clone()));
                assert_eq!(again, Ok(PexMessage::Addrs(back)));
            } else {
                assert!(!list.is_empty());
            }
        }
    }
});
