//! Rust names for model names, and model regular expressions in Rust syntax.

/// `EC2InstanceType` → `ec2_instance_type`; Rust keywords get `r#`.
pub fn field(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    match out.as_str() {
        "type" | "match" | "ref" | "self" | "move" | "loop" | "use" | "mod" | "in" | "where" => format!("r#{out}"),
        _ => out,
    }
}

/// `FLEET_STATE_ACTIVE` → `FleetStateActive`, `c5.large` → `C5Large`.
pub fn variant(value: &str) -> String {
    let mut out = String::new();
    for part in value.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mixed_case = part.chars().any(|c| c.is_ascii_uppercase()) && part.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if mixed_case {
                out.extend(chars);
            } else {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) { format!("V{out}") } else { out }
}

/// `FleetIdOrArn` → `fleet_id_or_arn` without keyword escaping, for function names.
pub fn function(shape: &str) -> String {
    field(shape).trim_start_matches("r#").to_owned()
}

/// Translates a model pattern (Java/ECMAScript flavour) into Rust `regex` syntax:
/// UTF-16 surrogate pairs become the supplementary-plane range they denote.
pub fn pattern(source: &str) -> String {
    source.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\x{10000}-\x{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_split_acronyms_and_digits() {
        assert_eq!(field("EC2InstanceType"), "ec2_instance_type");
        assert_eq!(field("FleetId"), "fleet_id");
        assert_eq!(field("DNSName"), "dns_name");
        assert_eq!(field("Type"), "r#type");
        assert_eq!(field("GameSessionActivationTimeoutSeconds"), "game_session_activation_timeout_seconds");
    }

    #[test]
    fn variants_are_upper_camel_case() {
        assert_eq!(variant("FLEET_STATE_ACTIVE"), "FleetStateActive");
        assert_eq!(variant("c5.large"), "C5Large");
        assert_eq!(variant("AWS"), "Aws");
        assert_eq!(variant("NoProtection"), "NoProtection");
    }

    #[test]
    fn surrogate_ranges_become_supplementary_planes() {
        let translated = pattern(r"^[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]+$");
        let re = regex::Regex::new(&translated).unwrap();
        assert!(re.is_match("hello 🎮"));
        assert!(!re.is_match("\u{1}"));
    }
}
