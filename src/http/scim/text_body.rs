//! An answer's JSON text ([`JsonText`]) as an HTTP body: its length declared up front, its
//! deferred parts (a large group's members) written a piece at a time as the connection takes
//! them, so an answer in flight holds one piece of them, not all of it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};

use crate::scim::json_text::JsonText;

/// About how much of a deferred part is written at a time.
const PIECE: usize = 64 * 1024;

/// The body of `text`: its buffer when it is one, else its parts one after the other (the
/// connection writes them together), deferred ones in pieces.
pub fn body_of(text: JsonText) -> Body {
    match text.into_single() {
        Ok(whole) => Body::from(whole),
        Err(parts) => Body::new(Pieces::new(parts)),
    }
}

/// [`JsonText`]'s pieces, as the connection asks for them.
struct Pieces {
    text: JsonText,
    /// Bytes not yet sent.
    left: u64,
}

impl Pieces {
    fn new(text: JsonText) -> Self {
        let left = text.len() as u64;
        Pieces { text, left }
    }
}

impl HttpBody for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        Poll::Ready(this.text.next_piece(PIECE).map(|piece| {
            this.left = this.left.saturating_sub(piece.len() as u64);
            Ok(Frame::data(Bytes::from(piece)))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::db::group_refs::RefPrefix;
    use crate::db::member_refs;

    /// A group's long member list goes out in pieces whose sum is the length declared first.
    #[tokio::test]
    async fn a_deferred_answer_is_sent_in_pieces_of_its_declared_length() {
        let ids: Vec<String> = (0..5000)
            .map(|i| format!("\"0193a2c4-7d1e-7000-8000-{i:012}\""))
            .collect();
        let mut text = JsonText::from(String::from("{\"members\":"));
        let prefix = RefPrefix::of_users("https://roster.example/scim/v2");
        member_refs::append_json(
            ids.join(","),
            &prefix,
            member_refs::MemberFields::ALL,
            &mut text,
        );
        text.push_str("}");
        let declared = text.len() as u64;
        let mut body = body_of(text);
        assert_eq!(body.size_hint().exact(), Some(declared));
        let mut sent = Vec::new();
        let mut pieces = 0;
        while let Some(frame) = body.frame().await {
            let data = frame.expect("no error").into_data().expect("data");
            assert!(data.len() <= PIECE + PIECE / 4, "{} bytes", data.len());
            sent.extend_from_slice(&data);
            pieces += 1;
        }
        assert!(pieces > 10, "{pieces} pieces");
        assert_eq!(sent.len() as u64, declared);
        let json: serde_json::Value = serde_json::from_slice(&sent).expect("JSON");
        assert_eq!(json["members"].as_array().map(Vec::len), Some(5000));
        assert_eq!(
            json["members"][4999]["value"],
            "0193a2c4-7d1e-7000-8000-000000004999"
        );
    }
}
