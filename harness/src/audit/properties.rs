//! Java `.properties` files as Kafka reads them: `Utils.loadProps` hands
//! the file's bytes to `java.util.Properties.load(InputStream)`, so this
//! follows the JDK's `Properties.LineReader` and `loadConvert`.
//!
//! Written here rather than taken from the `java-properties` crate: its
//! 2.0.0 silently drops the last entry of a file that ends in a
//! continuation backslash without a newline (`acks=all\` on the last line
//! disappears, so an audit would read the wrong `acks`), and refuses the
//! `\uXXXX` surrogate pairs Java accepts.

/// One `key=value` entry, unescaped, with the line its logical line starts
/// on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) value: String,
    /// The physical line the entry starts on, from 1.
    pub(crate) line: u32,
}

/// A malformed `\uXXXX` escape, the one thing `Properties.load` refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PropertiesError {
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// Every entry of the file `bytes`, in file order; a key given twice
/// appears twice (the later one wins, as in `Properties`).
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Entry>, PropertiesError> {
    // `Properties.load(InputStream)` reads ISO 8859-1: one byte, one char.
    let chars: Vec<char> = bytes.iter().map(|&b| char::from(b)).collect();
    let mut entries = Vec::new();
    for (line, logical) in logical_lines(&chars) {
        let (key, value) = split(&logical);
        let key = unescape(key, line)?;
        let value = unescape(value, line)?;
        entries.push(Entry { key, value, line });
    }
    Ok(entries)
}

/// The JDK's whitespace between key and value: space, tab, form feed.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// The logical lines of the file, comments and blank lines left out, each
/// with the physical line it starts on. A line ending in an odd number of
/// backslashes continues on the next, whose leading whitespace is skipped;
/// a comment line never continues.
fn logical_lines(chars: &[char]) -> Vec<(u32, Vec<char>)> {
    let mut physical = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\r' => {
                physical.push(&chars[start..i]);
                if chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            '\n' => {
                physical.push(&chars[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < chars.len() {
        physical.push(&chars[start..]);
    }

    let mut lines = Vec::new();
    let mut n = 0;
    while n < physical.len() {
        let first = n + 1;
        let text: Vec<char> = physical[n]
            .iter()
            .copied()
            .skip_while(|&c| is_space(c))
            .collect();
        n += 1;
        if text.is_empty() || text[0] == '#' || text[0] == '!' {
            continue;
        }
        let mut logical = text;
        while ends_in_continuation(&logical) {
            logical.pop();
            let Some(next) = physical.get(n) else { break };
            n += 1;
            logical.extend(next.iter().copied().skip_while(|&c| is_space(c)));
        }
        lines.push((first as u32, logical));
    }
    lines
}

fn ends_in_continuation(line: &[char]) -> bool {
    line.iter().rev().take_while(|&&c| c == '\\').count() % 2 == 1
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace;
/// whitespace around the separator, and one `=` or `:` after whitespace,
/// are skipped.
fn split(line: &[char]) -> (&[char], &[char]) {
    let mut backslash = false;
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    for (i, &c) in line.iter().enumerate() {
        if !backslash && (c == '=' || c == ':') {
            key_end = i;
            value_start = i + 1;
            has_separator = true;
            break;
        }
        if !backslash && is_space(c) {
            key_end = i;
            value_start = i + 1;
            break;
        }
        backslash = c == '\\' && !backslash;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if is_space(c) {
            value_start += 1;
        } else if !has_separator && (c == '=' || c == ':') {
            has_separator = true;
            value_start += 1;
        } else {
            break;
        }
    }
    (&line[..key_end], &line[value_start..])
}

/// `loadConvert`: `\t`, `\n`, `\r`, `\f`, `\uXXXX` (UTF-16, so surrogate
/// pairs join into one character), and any other escaped character stands
/// for itself.
fn unescape(s: &[char], line: u32) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            push_char(&mut units, c);
            continue;
        }
        let Some(&e) = s.get(i) else { break };
        i += 1;
        match e {
            't' => units.push(u16::from(b'\t')),
            'n' => units.push(u16::from(b'\n')),
            'r' => units.push(u16::from(b'\r')),
            'f' => units.push(0x0c),
            'u' => {
                let digits: String = s.iter().skip(i).take(4).collect();
                let unit = (digits.len() == 4)
                    .then(|| u16::from_str_radix(&digits, 16).ok())
                    .flatten()
                    .ok_or_else(|| PropertiesError {
                        line,
                        message: format!(
                            "malformed \\uxxxx encoding `\\u{digits}`: Java refuses the file"
                        ),
                    })?;
                units.push(unit);
                i += 4;
            }
            other => push_char(&mut units, other),
        }
    }
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

fn push_char(units: &mut Vec<u16>, c: char) {
    let mut buf = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(String, String, u32)> {
        parse(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value, e.line))
            .collect()
    }

    fn kv(k: &str, v: &str, line: u32) -> (String, String, u32) {
        (k.to_string(), v.to_string(), line)
    }

    #[test]
    fn equals_colon_and_whitespace_all_separate_a_key_from_its_value() {
        let got = read("a=1\nb: 2\nc 3\nd\t=  4\n  e = = 5\n");
        assert_eq!(
            got,
            vec![
                kv("a", "1", 1),
                kv("b", "2", 2),
                kv("c", "3", 3),
                kv("d", "4", 4),
                kv("e", "= 5", 5)
            ]
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_lines_still_counted() {
        let got = read("# a comment\n! another\n\n   \nacks=all\n");
        assert_eq!(got, vec![kv("acks", "all", 5)]);
    }

    #[test]
    fn a_continued_line_keeps_the_line_it_starts_on() {
        let got = read("listeners=PLAINTEXT://a:9092,\\\n    PLAINTEXT://b:9092\nacks=1\n");
        assert_eq!(
            got,
            vec![
                kv("listeners", "PLAINTEXT://a:9092,PLAINTEXT://b:9092", 1),
                kv("acks", "1", 3)
            ]
        );
    }

    #[test]
    fn a_continuation_on_the_last_line_without_a_newline_keeps_the_entry() {
        assert_eq!(
            read("a=1\nacks=all\\"),
            vec![kv("a", "1", 1), kv("acks", "all", 2)]
        );
    }

    #[test]
    fn an_even_number_of_backslashes_does_not_continue() {
        let got = read("path=C:\\\\dir\\\\\nnext=1\n");
        assert_eq!(got, vec![kv("path", "C:\\dir\\", 1), kv("next", "1", 2)]);
    }

    #[test]
    fn a_comment_line_never_continues() {
        assert_eq!(read("# comment \\\nacks=0\n"), vec![kv("acks", "0", 2)]);
    }

    #[test]
    fn escaped_separators_belong_to_the_key() {
        let got = read("a\\=b\\:c\\ d = v\n");
        assert_eq!(got, vec![kv("a=b:c d", "v", 1)]);
    }

    #[test]
    fn escapes_and_unicode_escapes_are_decoded() {
        let got = read("k=tab\\there\\u00e9\\uD83D\\uDE00\\q\n");
        assert_eq!(got, vec![kv("k", "tab\there\u{e9}\u{1F600}q", 1)]);
    }

    #[test]
    fn a_malformed_unicode_escape_is_refused_with_its_line() {
        let e = parse(b"a=1\nb=\\u12G4\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("\\uxxxx"), "{}", e.message);
    }

    #[test]
    fn crlf_and_cr_line_endings_count_as_one_line_each() {
        assert_eq!(
            read("a=1\r\nb=2\rc=3"),
            vec![kv("a", "1", 1), kv("b", "2", 2), kv("c", "3", 3)]
        );
    }

    #[test]
    fn a_key_alone_has_an_empty_value_and_trailing_spaces_stay_in_values() {
        assert_eq!(
            read("key\nv=x  \n"),
            vec![kv("key", "", 1), kv("v", "x  ", 2)]
        );
    }

    #[test]
    fn bytes_are_read_as_latin_1() {
        let got = parse(b"name=caf\xe9\n").unwrap();
        assert_eq!(got[0].value, "caf\u{e9}");
    }
}
