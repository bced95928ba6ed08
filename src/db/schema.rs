//! The one schema both backends share; `migrations/sqlite` and `migrations/postgres` create it.
//! Written by hand (diesel's `print-schema` would describe only one backend's spelling of it).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        team_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    custom_roles (id) {
        id -> BigInt,
        team_id -> BigInt,
        name -> Text,
        statements -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    member_custom_roles (member_id, role_id) {
        member_id -> BigInt,
        role_id -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        team_id -> BigInt,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    project_admins (member_id, project_id) {
        member_id -> BigInt,
        project_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> BigInt,
        kid -> Text,
        algorithm -> Text,
        private_key -> Text,
        public_key -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deployments (id) {
        id -> BigInt,
        project_id -> BigInt,
        name -> Text,
        deployment_type -> Text,
        admin_key_hash -> Text,
        signing_key_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_apps (id) {
        id -> BigInt,
        team_id -> Nullable<BigInt>,
        client_id -> Text,
        name -> Text,
        client_type -> Text,
        secret_hash -> Nullable<Text>,
        token_ttl_seconds -> Nullable<BigInt>,
        verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        origin -> Text,
        metadata_expires_at -> Nullable<Timestamp>,
        client_uri -> Nullable<Text>,
        logo_uri -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_app_redirect_uris (app_id, position) {
        app_id -> BigInt,
        position -> Integer,
        uri -> Text,
    }
}

diesel::table! {
    grants (id) {
        id -> BigInt,
        app_id -> BigInt,
        user_id -> BigInt,
        team_id -> BigInt,
        project_id -> Nullable<BigInt>,
        member_id -> Nullable<BigInt>,
        scope -> Text,
        access_token_hash -> Text,
        access_token_issued_at -> Timestamp,
        access_token_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        device_name -> Nullable<Text>,
        resources -> Nullable<Text>,
        audience -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        grant_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_codes (id) {
        id -> BigInt,
        code_hash -> Text,
        app_id -> BigInt,
        user_id -> BigInt,
        team_id -> BigInt,
        project_id -> Nullable<BigInt>,
        scope -> Text,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        redeemed_at -> Nullable<Timestamp>,
        replayed_at -> Nullable<Timestamp>,
        grant_id -> Nullable<BigInt>,
        resources -> Nullable<Text>,
    }
}

diesel::table! {
    deploy_keys (id) {
        id -> BigInt,
        token_hash -> Text,
        token_prefix -> Text,
        name -> Text,
        project_id -> BigInt,
        deployment_id -> Nullable<BigInt>,
        allowed_actions -> Text,
        custom_role_id -> Nullable<BigInt>,
        grant_id -> Nullable<BigInt>,
        created_by_user_id -> Nullable<BigInt>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    backend_credentials (id) {
        id -> BigInt,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        session_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        email -> Text,
        client_ip -> Text,
        failed_at -> Timestamp,
        kind -> Text,
    }
}

diesel::table! {
    device_codes (id) {
        id -> BigInt,
        device_code_hash -> Text,
        user_code -> Text,
        app_id -> BigInt,
        scope -> Text,
        device_name -> Nullable<Text>,
        interval_seconds -> BigInt,
        last_polled_at -> Nullable<Timestamp>,
        status -> Text,
        user_id -> Nullable<BigInt>,
        team_id -> Nullable<BigInt>,
        project_id -> Nullable<BigInt>,
        grant_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        resources -> Nullable<Text>,
    }
}

diesel::table! {
    resource_servers (id) {
        id -> BigInt,
        uri -> Text,
        deployment_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        created_at -> Timestamp,
        actor -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        team_id -> Nullable<BigInt>,
        client_ip -> Nullable<Text>,
        details -> Text,
    }
}

// Appended to by triggers on both backends: see `crate::db::models::credential_changes`.
diesel::table! {
    credential_changes (id) {
        id -> BigInt,
        token_hash -> Nullable<Text>,
    }
}

// PostgreSQL only: the single row that numbers its credential changes in commit order.
diesel::table! {
    credential_change_counter (only_row) {
        only_row -> Bool,
        n -> BigInt,
    }
}

diesel::joinable!(members -> teams (team_id));
diesel::joinable!(members -> users (user_id));
diesel::joinable!(custom_roles -> teams (team_id));
diesel::joinable!(member_custom_roles -> members (member_id));
diesel::joinable!(member_custom_roles -> custom_roles (role_id));
diesel::joinable!(projects -> teams (team_id));
diesel::joinable!(project_admins -> members (member_id));
diesel::joinable!(project_admins -> projects (project_id));
diesel::joinable!(deployments -> projects (project_id));
diesel::joinable!(oauth_apps -> teams (team_id));
diesel::joinable!(oauth_app_redirect_uris -> oauth_apps (app_id));
diesel::joinable!(grants -> oauth_apps (app_id));
diesel::joinable!(grants -> users (user_id));
diesel::joinable!(grants -> teams (team_id));
diesel::joinable!(grants -> projects (project_id));
diesel::joinable!(grants -> members (member_id));
diesel::joinable!(refresh_tokens -> grants (grant_id));
diesel::joinable!(deploy_keys -> projects (project_id));
diesel::joinable!(deploy_keys -> deployments (deployment_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(resource_servers -> deployments (deployment_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    teams,
    members,
    custom_roles,
    member_custom_roles,
    projects,
    project_admins,
    signing_keys,
    server_secrets,
    deployments,
    oauth_apps,
    oauth_app_redirect_uris,
    grants,
    refresh_tokens,
    authorization_codes,
    deploy_keys,
    backend_credentials,
    sessions,
    login_failures,
    device_codes,
    resource_servers,
    audit_events,
);
