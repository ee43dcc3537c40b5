//! EIP-1459 TXT records: the text of a TXT answer (`dns::txt_text`), the root
//! (`dns::root_from_txt`, `Root::parse`, `Root::verify`), tree entries
//! (`dns::entry_from_txt`, `Entry::parse`) and `enrtree://` URLs (`TreeUrl`), as the
//! resolver applies them to what a DNS server returns.
//!
//! Input: character-strings separated by `\n` (records longer than 255 bytes arrive split);
//! joined, they are one TXT record's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerscope::protocol::dns::{
    entry_from_txt, root_from_txt, subdomain_hash, txt_text, Entry, Root, TreeUrl,
};

const DOMAIN: &str = "nodes.example.org";

fuzz_target!(|data: &[u8]| {
    let strings: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let text = txt_text(&strings);
    let texts = vec![text.clone()];

    if let Ok(root) = root_from_txt(DOMAIN, &texts) {
        // Display gives the canonical text, which parses back to the same root.
        let again = Root::parse(&root.to_string()).expect("canonical root text parses");
        assert_eq!(again, root);
        if let Ok(url) = text.parse::<TreeUrl>() {
            let _ = root.verify(&url.public_key);
        }
        let url = "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@n"
            .parse::<TreeUrl>()
            .expect("the EIP example URL");
        let _ = root.verify(&url.public_key);
    }

    // As the entry it claims to be (its own hash), and under another name.
    let own = subdomain_hash(&text);
    match entry_from_txt(DOMAIN, &own, &texts) {
        Ok(entry) => {
            let direct = Entry::parse(&text).expect("entry_from_txt parsed it");
            // What the tree builder writes for an entry hashes and parses the same.
            let written = entry.text();
            assert_eq!(written, direct.text());
            if let Entry::Branch(children) = &entry {
                for child in children {
                    let _ = entry_from_txt(DOMAIN, child, &texts);
                }
            }
            let reparsed = Entry::parse(&written).expect("written entry text parses");
            assert_eq!(reparsed.text(), written);
        }
        // Under its own hash, an entry is refused only when its text does not parse.
        Err(e) => assert!(Entry::parse(&text).is_err(), "refused: {e}"),
    }
    let _ = entry_from_txt(DOMAIN, "JWXYDBPXYWG6FX3GMDIBFA6CJ4", &texts);

    // As a URL: the canonical text parses back to the same tree.
    if let Ok(url) = text.parse::<TreeUrl>() {
        let again = url
            .to_string()
            .parse::<TreeUrl>()
            .expect("canonical URL parses");
        assert_eq!(again, url);
        assert!(!url.domain.ends_with('.') && url.domain == url.domain.to_ascii_lowercase());
    }
    // The hash label of the first bytes, as a hash a branch may name.
    if let Some(label) = text.get(..text.len().min(60)) {
        let _ = entry_from_txt(DOMAIN, label, &texts);
    }
});
