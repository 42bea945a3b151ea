use m2sec_store::{SqlStore, Store};

#[tokio::test]
async fn sqlite_passes_the_suite_and_keeps_data_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let url = SqlStore::sqlite_url(&dir.path().join("m2sec.db"));
    assert!(!SqlStore::holds_data(&url).await.unwrap());
    {
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        assert!(
            !SqlStore::holds_data(&url).await.unwrap(),
            "migrated, empty"
        );
        m2sec_store::test_suite::run(&store).await;
        // A second pool on the file, as a second process would have.
        let other = SqlStore::connect(&url).await.unwrap();
        m2sec_store::test_suite::racing_writers(&store, &other, "t-two-nodes").await;
    }
    assert!(SqlStore::holds_data(&url).await.unwrap());
    // Reopening runs no migration twice and finds the data.
    let store = SqlStore::connect(&url).await.unwrap();
    assert!(store.get_access_key("AKIATEST").await.unwrap().is_some());
}

/// Runs when the test script provides a throwaway PostgreSQL database.
#[tokio::test]
async fn postgres_passes_the_suite() {
    let Ok(url) = std::env::var("M2SEC_TEST_POSTGRES_URL") else {
        m2sec_test_support::missing("M2SEC_TEST_POSTGRES_URL (PostgreSQL conformance)");
        return;
    };
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    m2sec_store::test_suite::run(&store).await;
    // A second pool on the database, as a second node would have.
    let other = SqlStore::connect(&url).await.unwrap();
    m2sec_store::test_suite::racing_writers(&store, &other, "t-two-nodes").await;
    assert!(SqlStore::holds_data(&url).await.unwrap());
}
