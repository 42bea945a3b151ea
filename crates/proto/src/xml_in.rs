//! XML in, for the protocols that take XML request bodies (restXml): a small, strict reader that turns a
//! document into a tree of [`Element`]s — local names, child elements and text — which the protocol then
//! reads by the model. Document type declarations are refused (no entity expansion), nesting is capped,
//! and deep documents cannot exhaust the stack.

/// Nesting deeper than this is refused rather than parsed.
const MAX_DEPTH: usize = 64;

/// An element of a parsed document: its local name (namespace prefix dropped), child elements and
/// the text directly inside it. Attributes are not kept.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

/// Parses a request body: one root element, optionally preceded by an XML declaration, with
/// comments, CDATA sections and character references. Document type declarations are refused. The
/// error is a message for the client, naming the line and column of the problem.
pub(crate) fn parse_xml(body: &[u8]) -> Result<Element, String> {
    let text =
        std::str::from_utf8(body).map_err(|_| "The request body is not valid UTF-8".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = XmlParser { text, at: 0 };
    parser.document().map_err(|(at, problem)| {
        let before = &text[..at.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("The request body is not well-formed XML: {problem} (line {line}, column {column})")
    })
}

struct XmlParser<'t> {
    text: &'t str,
    at: usize,
}

type XmlResult<T> = Result<T, (usize, String)>;

impl XmlParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn fail<T>(&self, problem: impl Into<String>) -> XmlResult<T> {
        Err((self.at, problem.into()))
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// Skips past `end`, or fails with `problem`.
    fn skip_past(&mut self, end: &str, problem: &str) -> XmlResult<&str> {
        match self.rest().find(end) {
            Some(i) => {
                let skipped = &self.text[self.at..self.at + i];
                self.at += i + end.len();
                Ok(skipped)
            }
            None => self.fail(problem),
        }
    }

    /// Comments and processing instructions between markup, and whitespace.
    fn skip_misc(&mut self) -> XmlResult<()> {
        loop {
            self.skip_space();
            if self.rest().starts_with("<?") {
                self.skip_past("?>", "unterminated processing instruction")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->", "unterminated comment")?;
            } else if self.rest().starts_with("<!") {
                return self.fail("document type declarations are not allowed");
            } else {
                return Ok(());
            }
        }
    }

    fn document(&mut self) -> XmlResult<Element> {
        self.skip_misc()?;
        if !self.rest().starts_with('<') {
            return self.fail("expected the root element");
        }
        let root = self.element()?;
        self.skip_misc()?;
        if !self.rest().is_empty() {
            return self.fail("unexpected content after the root element");
        }
        Ok(root)
    }

    fn name(&mut self) -> XmlResult<&str> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(rest.len());
        if len == 0 {
            return self.fail("expected a name");
        }
        let name = &self.text[self.at..self.at + len];
        self.at += len;
        Ok(name)
    }

    /// An element starting at `<`, iteratively so deep nesting cannot exhaust the stack.
    fn element(&mut self) -> XmlResult<Element> {
        // Open elements with their qualified names.
        let mut stack: Vec<(Element, String)> = Vec::new();
        loop {
            // At `<` of a start tag.
            self.at += 1;
            let qualified = self.name()?.to_string();
            let local = qualified.rsplit(':').next().unwrap_or_default().to_string();
            let empty = self.attributes()?;
            let element = Element {
                name: local,
                ..Element::default()
            };
            if empty {
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(element),
                    None => return Ok(element),
                }
            } else {
                if stack.len() >= MAX_DEPTH {
                    return self.fail(format!("elements nest deeper than {MAX_DEPTH} levels"));
                }
                stack.push((element, qualified));
            }
            // Content until the next start tag, or end tags closing the document.
            loop {
                let Some((current, _)) = stack.last_mut() else {
                    return self.fail("no element is open");
                };
                let rest = &self.text[self.at..];
                let Some(lt) = rest.find('<') else {
                    return self.fail("unexpected end of document inside an element");
                };
                let chunk = &rest[..lt];
                let start = self.at;
                current
                    .text
                    .push_str(&unescape(chunk).map_err(|p| (start, p))?);
                self.at += lt;
                let rest = self.rest();
                if rest.starts_with("<!--") {
                    self.skip_past("-->", "unterminated comment")?;
                } else if rest.starts_with("<![CDATA[") {
                    self.at += "<![CDATA[".len();
                    let data = self.skip_past("]]>", "unterminated CDATA section")?;
                    let data = normalize_newlines(data);
                    if let Some((current, _)) = stack.last_mut() {
                        current.text.push_str(&data);
                    }
                } else if rest.starts_with("<?") {
                    self.skip_past("?>", "unterminated processing instruction")?;
                } else if rest.starts_with("<!") {
                    return self.fail("unexpected declaration inside an element");
                } else if rest.starts_with("</") {
                    self.at += 2;
                    let name = self.name()?.to_string();
                    self.skip_space();
                    if !self.rest().starts_with('>') {
                        return self.fail("expected '>'");
                    }
                    let Some((done, qualified)) = stack.pop() else {
                        return self.fail("no element is open");
                    };
                    if name != qualified {
                        return self.fail(format!(
                            "the end tag </{name}> does not match the start tag <{qualified}>"
                        ));
                    }
                    self.at += 1;
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(done),
                        None => return Ok(done),
                    }
                } else {
                    break;
                }
            }
        }
    }

    /// Attributes after a start tag's name, through `>` or `/>`; true for `/>`.
    fn attributes(&mut self) -> XmlResult<bool> {
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.at += 2;
                return Ok(true);
            }
            if rest.starts_with('>') {
                self.at += 1;
                return Ok(false);
            }
            if rest.is_empty() {
                return self.fail("unterminated start tag");
            }
            self.name()?;
            self.skip_space();
            if !self.rest().starts_with('=') {
                return self.fail("expected '=' after an attribute name");
            }
            self.at += 1;
            self.skip_space();
            let quote = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.fail("expected a quoted attribute value"),
            };
            self.at += 1;
            let value = self.skip_past(&quote.to_string(), "unterminated attribute value")?;
            if value.contains('<') {
                return self.fail("'<' in an attribute value");
            }
        }
    }
}

/// `\r\n` and lone `\r` become `\n`, as XML parsers do.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Character data with references resolved.
fn unescape(text: &str) -> Result<String, String> {
    let text = normalize_newlines(text);
    if !text.contains('&') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let Some(semi) = rest.find(';') else {
            return Err("'&' that does not start a reference (write &amp;)".into());
        };
        let name = &rest[..semi];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown reference &{name};"))?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_parses_with_references_cdata_and_namespaces() {
        let doc = parse_xml(
            b"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\
              <r:Root xmlns:r=\"urn:x\" a='1>2'><A>x &amp; &lt;y&gt; &#65;&#x42;</A>\
              <B><![CDATA[<raw> & ]]>tail</B><C/><D>line\r\nnext</D><!-- c --></r:Root>\n",
        )
        .unwrap();
        assert_eq!(doc.name, "Root");
        let texts: Vec<(&str, &str)> = doc
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("A", "x & <y> AB"),
                ("B", "<raw> & tail"),
                ("C", ""),
                ("D", "line\nnext")
            ]
        );
    }

    #[test]
    fn malformed_xml_is_reported_with_its_place() {
        let err = |body: &str| parse_xml(body.as_bytes()).unwrap_err();
        let e = err("<A><B>x</A>");
        assert_eq!(
            e,
            "The request body is not well-formed XML: the end tag </A> does not match the start tag \
             <B> (line 1, column 11)"
        );
        for (body, problem) in [
            ("", "expected the root element"),
            ("plain text", "expected the root element"),
            ("<A>", "unexpected end of document"),
            ("<A>1</A><B/>", "unexpected content after the root element"),
            ("<A>a & b</A>", "'&' that does not start a reference"),
            ("<A>&nbsp;</A>", "unknown reference &nbsp;"),
            ("<A x=1/>", "expected a quoted attribute value"),
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                "document type declarations",
            ),
            ("<A><!-- x</A>", "unterminated comment"),
            ("<A", "unterminated start tag"),
        ] {
            let e = err(body);
            assert!(e.contains(problem), "{body}: {e}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(err(&deep).contains("nest deeper"));
        assert_eq!(
            parse_xml(b"<A>\xff</A>").unwrap_err(),
            "The request body is not valid UTF-8"
        );
    }
}
