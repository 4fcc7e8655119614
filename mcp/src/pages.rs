//! `tools/list` pagination: pages of a fixed size, with opaque cursors that hold the offset of
//! the next page and a fingerprint of the catalogue, so a cursor of another server (other
//! connectors, another page size) is refused instead of silently skipping tools.

/// Tools per `tools/list` page unless `AIRBYTE_AGENT_MCP_PAGE_SIZE` says otherwise: more than
/// the largest connector's tools, so one connector is one page and large multi-connector
/// catalogues are split.
pub const DEFAULT_PAGE_SIZE: usize = 150;

/// The environment variable (or `.env` key) that sets the page size.
pub const PAGE_SIZE_ENV: &str = "AIRBYTE_AGENT_MCP_PAGE_SIZE";

/// The largest page size accepted.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Splits one catalogue into pages.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    size: usize,
    fingerprint: String,
}

impl Pager {
    /// A pager of `size` items a page (at least 1) over the catalogue named by `names`.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>, size: usize) -> Self {
        let size = size.max(1);
        // FNV-1a over the names and the page size: stable across runs of the same catalogue.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for name in names {
            eat(name.as_bytes());
            eat(b"\n");
        }
        eat(&size.to_le_bytes());
        Pager {
            size,
            fingerprint: format!("{hash:016x}"),
        }
    }

    /// The page `cursor` points at (the first page without one) and the cursor of the next
    /// page, if any. A cursor this pager did not issue is an error message for the client.
    pub(crate) fn page<T: Clone>(
        &self,
        items: &[T],
        cursor: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), String> {
        let start = match cursor {
            None => 0,
            Some(c) => self.offset(c, items.len()).ok_or_else(|| {
                "invalid or stale cursor: list tools again without a cursor".to_string()
            })?,
        };
        let end = start.saturating_add(self.size).min(items.len());
        let next = (end < items.len()).then(|| format!("{end}.{}", self.fingerprint));
        Ok((items.get(start..end).unwrap_or_default().to_vec(), next))
    }

    fn offset(&self, cursor: &str, len: usize) -> Option<usize> {
        let (offset, fingerprint) = cursor.split_once('.')?;
        let offset: usize = offset.parse().ok()?;
        (fingerprint == self.fingerprint
            && offset > 0
            && offset < len
            && offset.is_multiple_of(self.size))
        .then_some(offset)
    }
}

/// The page size from the setting's value.
pub fn page_size(value: Option<&str>) -> Result<usize, String> {
    let Some(v) = value else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(format!(
            "{PAGE_SIZE_ENV} must be a whole number from 1 to {MAX_PAGE_SIZE}, got `{v}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once_in_order() {
        let items: Vec<u32> = (0..7).collect();
        let pager = Pager::new(["a", "b"], 3);
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let (page, next) = pager.page(&items, cursor.as_deref()).expect("page");
            assert!(page.len() <= 3);
            seen.extend(page);
            pages += 1;
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, items);
        assert_eq!(pages, 3);
    }

    #[test]
    fn one_page_has_no_cursor_and_foreign_cursors_are_refused() {
        let items = ["x", "y"];
        let pager = Pager::new(["x", "y"], 5);
        assert_eq!(pager.page(&items, None), Ok((items.to_vec(), None)));
        let (_, next) = Pager::new(["x", "y"], 1).page(&items, None).expect("page");
        let other_size = next.expect("a second page");
        for bad in [
            "",
            "1",
            "1.",
            "x.y",
            "0.abc",
            other_size.as_str(),
            "99.0000",
        ] {
            assert!(pager.page(&items, Some(bad)).is_err(), "{bad:?}");
        }
        // Another catalogue's cursor, same page size and offset.
        let small = Pager::new(["x", "y"], 1);
        let other = Pager::new(["x", "z"], 1);
        let (_, next) = other.page(&items, None).expect("page");
        assert!(small.page(&items, next.as_deref()).is_err());
    }

    #[test]
    fn page_size_setting() {
        assert_eq!(page_size(None), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(Some(" 25 ")), Ok(25));
        for bad in ["0", "-1", "ten", "10001"] {
            let e = page_size(Some(bad)).expect_err(bad);
            assert!(e.contains(PAGE_SIZE_ENV), "{e}");
        }
    }
}
