//! Tagging rules shared by TagResource and every Create operation that takes tags.
//!
//! GameLift follows AWS's general tagging limits: at most 50 tags per resource, and
//! keys starting with `aws:` are reserved. Breaking either is a
//! `TaggingFailedException`.

use openlift_model::{ApiError, ErrorCode, Tag};

/// Most tags one resource may carry.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// The tags a resource would carry after adding `new` to `existing` (new values
/// overwrite old ones), or `TaggingFailedException` if that breaks a limit.
pub fn merge(existing: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, ApiError> {
    if let Some(tag) = new.iter().find(|t| t.key.to_ascii_lowercase().starts_with("aws:")) {
        return Err(ApiError::new(
            ErrorCode::TaggingFailedException,
            format!("Tag key {} uses the reserved prefix aws:.", tag.key),
        ));
    }
    let mut merged: Vec<Tag> = existing.to_vec();
    for tag in new {
        match merged.iter_mut().find(|t| t.key == tag.key) {
            Some(old) => old.value.clone_from(&tag.value),
            None => merged.push(tag.clone()),
        }
    }
    if merged.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::new(
            ErrorCode::TaggingFailedException,
            format!(
                "A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; this request would give it {}.",
                merged.len()
            ),
        ));
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn new_values_overwrite_old_ones() {
        let merged = merge(&[tag("a", "1")], &[tag("a", "2"), tag("b", "3")]).unwrap();
        assert_eq!(merged, vec![tag("a", "2"), tag("b", "3")]);
    }

    #[test]
    fn the_fifty_first_tag_fails() {
        let existing: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(merge(&existing, &[tag("k0", "new")]).is_ok());
        let err = merge(&existing, &[tag("extra", "v")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::TaggingFailedException);
    }

    #[test]
    fn reserved_prefix_fails() {
        assert_eq!(merge(&[], &[tag("AWS:owner", "x")]).unwrap_err().code, ErrorCode::TaggingFailedException);
    }
}
