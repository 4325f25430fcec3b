//! Postcard into a buffer its owner keeps between writes.
//!
//! `postcard::to_stdvec` starts every value in a new `Vec` that doubles its
//! way up to the value's size. A host encodes a frame for every datagram it
//! sends and a journal entry for every record it stores, so each endpoint
//! and journal keeps one buffer and encodes into it.

use postcard::ser_flavors::Flavor;
use serde::Serialize;

/// A postcard flavor that appends to a borrowed `Vec`.
struct Append<'a>(&'a mut Vec<u8>);

impl Flavor for Append<'_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Appends `value`, in postcard, to `buf`.
pub(crate) fn append<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) -> postcard::Result<()> {
    postcard::serialize_with_flavor(value, Append(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_gives_the_bytes_postcard_gives_after_what_was_there() {
        let value = (7u32, "seven".to_string(), vec![1u64, 300]);
        let mut buf = vec![0xAA];
        append(&value, &mut buf).unwrap();
        assert_eq!(buf[0], 0xAA);
        assert_eq!(&buf[1..], postcard::to_stdvec(&value).unwrap().as_slice());
    }
}
