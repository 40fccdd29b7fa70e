//! The store through the binary: `migrate-store` copies a polled SQLite store into PostgreSQL,
//! after which tributary serves the same merged feed from it.

use crate::end_to_end::Newsroom;
use crate::support::{stderr, stdout};

fn use_database(newsroom: &Newsroom, url: &str) {
    let text = std::fs::read_to_string(&newsroom.config).unwrap();
    let text = text.replace("\"data/tributary.db\"", &format!("\"{url}\""));
    std::fs::write(&newsroom.config, text).unwrap();
}

#[test]
fn migrate_store_copies_sqlite_into_postgres_once() {
    let newsroom = Newsroom::start();
    assert!(newsroom.tributary(&["poll"]).status.success());
    let on_sqlite = newsroom.export("json");
    let url = crate::test_cluster::fresh_database();
    let args = ["migrate-store", "--from", "data/tributary.db", "--to", &url];
    let output = newsroom.tributary(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("sources: 5 rows copied"), "{report}");
    assert!(report.contains("stories: 4 rows copied"), "{report}");

    use_database(&newsroom, &url);
    assert_eq!(newsroom.export("json"), on_sqlite);
    // The copied state is used: a second poll is conditional and adds nothing.
    let output = newsroom.tributary(&["poll"]);
    assert!(
        stdout(&output).contains(", 0 new entries"),
        "{}",
        stdout(&output)
    );

    let again = newsroom.tributary(&args);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    assert_eq!(
        newsroom.export("json"),
        on_sqlite,
        "nothing added by the refused copy"
    );

    let missing = ["migrate-store", "--from", "data/missing.db", "--to", &url];
    let output = newsroom.tributary(&missing);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );
    assert!(!newsroom.folder.path().join("data/missing.db").exists());
}

#[test]
fn backup_of_a_postgres_store_points_to_pg_dump() {
    let newsroom = Newsroom::start_postgres();
    let output = newsroom.tributary(&["backup", "copy.db"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("pg_dump"), "{}", stderr(&output));
    assert!(!newsroom.folder.path().join("copy.db").exists());
}
