//! `portcullis serve --demo`: seeds once, and the printed instructions work as written.

use crate::harness::{Server, TestDb, browser, hidden_inputs, location, param, unescape};

#[test]
fn the_demo_flow_printed_at_start_works_and_seeding_is_idempotent() {
    let db = TestDb::new();
    // Seeding twice must be harmless: the second start finds everything and starts normally.
    drop(Server::start_with(&db.url, &[], &["--demo"]));
    let server = Server::start_with(&db.url, &[], &["--demo"]);
    let banner = server.banner.join("\n");
    let url = banner.split_whitespace().find(|w| w.contains("/oauth/authorize?")).expect("an authorization URL");
    assert!(banner.contains("demo@example.com") && banner.contains("portcullis-demo"), "{banner}");

    let client = browser();
    let login = client
        .post(server.url("/login"))
        .form(&[("email", "demo@example.com"), ("password", "portcullis-demo")])
        .send()
        .unwrap();
    assert_eq!(login.status(), 303);
    let page = client.get(url).send().unwrap();
    assert_eq!(page.status(), 200);
    let mut form = hidden_inputs(&page.text().unwrap());
    form.extend(
        [("team", "demo"), ("project", "web"), ("decision", "approve")].map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let approved = client.post(server.url("/oauth/authorize")).form(&form).send().unwrap();
    let callback = location(&approved);
    assert!(param(&callback, "code").is_some());

    // The callback page shows the exact token request; make it.
    let words = shell_words(&command_on(&client, &callback));
    assert_eq!(&words[..2], ["curl", "-s"]);
    let endpoint = words[2].clone();
    let fields: Vec<(String, String)> = words[3..]
        .chunks(2)
        .map(|pair| {
            assert!(matches!(pair[0].as_str(), "-d" | "--data-urlencode"), "{pair:?}");
            let (k, v) = pair[1].split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let tokens: serde_json::Value = crate::harness::http().post(endpoint).form(&fields).send().unwrap().json().unwrap();
    assert!(tokens["access_token"].as_str().unwrap().starts_with("project:demo:web|"), "{tokens}");

    // Shell injection through the link: a `code` that is not one of ours never reaches the
    // command people are told to paste.
    let hostile = format!("{}/demo/callback?code=%24%28touch%20%2Ftmp%2Fpwned%29%3B%27", server.base);
    let html = client.get(&hostile).send().unwrap().text().unwrap();
    assert!(!html.contains(r#"<code id="command">"#) && !html.contains("touch"), "{html}");
    assert!(html.contains("not one this server issues"), "{html}");
}

/// The command the callback page at `url` shows.
fn command_on(client: &reqwest::blocking::Client, url: &str) -> String {
    let html = client.get(url).send().unwrap().text().unwrap();
    let start = html.find(r#"<code id="command">"#).expect("the command") + r#"<code id="command">"#.len();
    unescape(&html[start..start + html[start..].find("</code>").unwrap()])
}

/// Splits a command line as a POSIX shell would, for the quoting the page uses (plain words and
/// single-quoted ones).
fn shell_words(command: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in command.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {command:?}");
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}
