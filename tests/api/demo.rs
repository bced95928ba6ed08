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
    let html = client.get(&callback).send().unwrap().text().unwrap();
    let start = html.find(r#"<code id="command">"#).expect("the command") + r#"<code id="command">"#.len();
    let command = unescape(&html[start..start + html[start..].find("</code>").unwrap()]);
    let mut words = command.split_whitespace().skip(3);
    let endpoint = command.split_whitespace().nth(2).unwrap().to_owned();
    let fields: Vec<(String, String)> = std::iter::from_fn(|| {
        let flag = words.next()?;
        let value = words.next()?;
        (flag == "-d").then(|| value.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))).flatten()
    })
    .collect();
    let tokens: serde_json::Value = crate::harness::http().post(endpoint).form(&fields).send().unwrap().json().unwrap();
    assert!(tokens["access_token"].as_str().unwrap().starts_with("project:demo:web|"), "{tokens}");
}
