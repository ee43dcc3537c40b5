//! Waku metadata (`/vac/waku/metadata/1.0.0`): one uvarint length-prefixed
//! `WakuMetadata{Request,Response}` per direction, read by `waku::read_message` (what the
//! `MetadataCodec` does for requests and responses alike), then what the dialer does with
//! it: echo a request, record a response.
#![no_main]

use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use peerscope::model::MetadataInfo;
use peerscope::protocol::waku::{read_frame, read_message, write_frame, WakuMetadata, METADATA_MAX_BYTES};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    // The length prefix: a frame is never longer than the limit, nor than what was sent.
    let mut cursor = Cursor::new(data);
    if let Ok(frame) = block_on(read_frame(&mut cursor, METADATA_MAX_BYTES)) {
        assert!(frame.len() <= METADATA_MAX_BYTES);
        let end = usize::try_from(cursor.position()).expect("position fits");
        assert_eq!(frame.as_slice(), &data[end - frame.len()..end]);
    }

    let framed = block_on(read_message::<WakuMetadata, _>(
        &mut Cursor::new(data),
        METADATA_MAX_BYTES,
    ));
    if let Ok(request) = &framed {
        // The echo the dialer sends back is at most one byte longer than what it read (a
        // single unpacked shard is re-encoded packed: one length byte more; everything else
        // only shrinks), and fits the remote's own limit.
        let mut prefix = Cursor::new(data);
        let frame = block_on(read_frame(&mut prefix, METADATA_MAX_BYTES)).expect("read above");
        assert!(request.encoded_len() <= frame.len() + 1);
        assert!(request.encoded_len() <= METADATA_MAX_BYTES);
    }
    for m in [framed.ok(), WakuMetadata::decode(data).ok()]
        .into_iter()
        .flatten()
    {
        let mut wire = Vec::new();
        block_on(write_frame(&mut wire, &m.encode_to_vec())).expect("writes to memory");
        let back = block_on(read_message::<WakuMetadata, _>(
            &mut Cursor::new(&wire),
            usize::MAX,
        ))
        .expect("what we write reads back");
        assert_eq!(back, m);
        // A response is kept in the visit report, which the store holds as JSON.
        let info = MetadataInfo {
            cluster_id: m.cluster_id,
            shards: m.shards,
        };
        let json = serde_json::to_vec(&info).expect("serializes");
        let again: MetadataInfo = serde_json::from_slice(&json).expect("deserializes");
        assert_eq!(again, info);
    }
});
