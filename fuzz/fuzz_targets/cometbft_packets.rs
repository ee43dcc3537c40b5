//! CometBFT MConnection: a byte stream read as uvarint-framed `tendermint.p2p.Packet`s by
//! `cometbft::packet::PacketReader` (the reader every connection uses, with its packet and
//! reassembly limits). Every message it hands back fits the PEX capacity, and a message
//! split again with `message_packets` reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerscope::protocol::cometbft::packet::{
    message_packets, read_all, Incoming, PacketReader, MAX_PAYLOAD, PEX_MAX_MSG,
};

fuzz_target!(|data: &[u8]| {
    let mut reader = PacketReader::pex();
    let (got, _end) = read_all(data, &mut reader);
    assert!(reader.packets() as usize <= data.len());
    for incoming in got {
        if let Incoming::Message { channel, data } = incoming {
            assert_eq!(channel, 0);
            assert!(data.len() <= PEX_MAX_MSG);
            let wire = message_packets(channel, &data, MAX_PAYLOAD);
            let (again, _) = read_all(&wire, &mut PacketReader::pex());
            assert_eq!(again, vec![Incoming::Message { channel, data }]);
        }
    }
});
