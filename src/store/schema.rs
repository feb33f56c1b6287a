//! Table definitions shared by both backends: only SQL types both understand
//! (Text, Integer, Bool, Timestamp); JSON columns are Text, decoded at the edge.

diesel::table! {
    projects (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    integrations (id) {
        id -> Text,
        project_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        category -> Text,
        protocol -> Text,
        status -> Text,
        enabled -> Bool,
        auth_kind -> Text,
        tags -> Text,
        base_url -> Nullable<Text>,
        config -> Text,
        headers -> Text,
        timeout_ms -> Integer,
        retry_policy -> Text,
        rate_limit -> Nullable<Text>,
        cache_policy -> Text,
        created_by -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        call_options -> Text,
        template_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        project_id -> Nullable<Text>,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    logs (id) {
        id -> Text,
        project_id -> Text,
        integration_id -> Nullable<Text>,
        level -> Text,
        level_rank -> Integer,
        message -> Text,
        metadata -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        actor_name -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        project_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(integrations -> projects (project_id));
diesel::joinable!(api_tokens -> projects (project_id));
diesel::allow_tables_to_appear_in_same_query!(projects, integrations, api_tokens, logs, audit_log);

diesel::table! {
    master_keys (id) {
        id -> Text,
        source -> Text,
        salt -> Nullable<Binary>,
        iterations -> Integer,
        check_value -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    encryption_keys (id) {
        id -> Text,
        master_id -> Text,
        wrapped_key -> Binary,
        state -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    credentials (integration_id) {
        integration_id -> Text,
        kind -> Text,
        key_id -> Text,
        wrapped_dek -> Binary,
        sealed -> Binary,
        set_fields -> Text,
        expires_at -> Nullable<Timestamp>,
        refresh_error -> Nullable<Text>,
        refresh_failed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    key_rotations (id) {
        id -> Text,
        target_key_id -> Text,
        state -> Text,
        done -> Integer,
        total -> Integer,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(credentials -> integrations (integration_id));
diesel::allow_tables_to_appear_in_same_query!(credentials, integrations);

diesel::table! {
    executions (id) {
        id -> Text,
        project_id -> Text,
        integration_id -> Text,
        operation -> Text,
        method -> Text,
        path -> Text,
        status_code -> Nullable<Integer>,
        success -> Bool,
        latency_ms -> Integer,
        bytes_in -> BigInt,
        bytes_out -> BigInt,
        retries -> Integer,
        cached -> Bool,
        truncated -> Bool,
        error_class -> Nullable<Text>,
        error_message -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Timestamp,
    }
}

diesel::joinable!(executions -> integrations (integration_id));
diesel::allow_tables_to_appear_in_same_query!(executions, integrations);

diesel::table! {
    events (id) {
        id -> Text,
        project_id -> Text,
        event_type -> Text,
        payload -> Text,
        dispatched -> Bool,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        queue_key -> Nullable<Text>,
        run_at -> Timestamp,
        attempts -> Integer,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        project_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        filter -> Text,
        headers -> Text,
        rate_limit_per_second -> Nullable<Integer>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        key_id -> Text,
        secret -> Binary,
        previous_key_id -> Nullable<Text>,
        previous_secret -> Nullable<Binary>,
        previous_expires_at -> Nullable<Timestamp>,
        consecutive_failures -> Integer,
        failing_since -> Nullable<Timestamp>,
        last_delivery_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        project_id -> Text,
        event_type -> Text,
        status -> Text,
        attempt_count -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        webhook_id -> Text,
        status_code -> Nullable<Integer>,
        latency_ms -> Integer,
        response_snippet -> Nullable<Text>,
        error -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    incoming_webhook_secrets (integration_id) {
        integration_id -> Text,
        scheme -> Text,
        header -> Nullable<Text>,
        tolerance_seconds -> Integer,
        key_id -> Text,
        secret -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    health_states (integration_id) {
        integration_id -> Text,
        project_id -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        consecutive_failures -> Integer,
        consecutive_successes -> Integer,
        last_checked_at -> Nullable<Timestamp>,
        last_latency_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_check_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    health_transitions (id) {
        id -> Text,
        integration_id -> Text,
        project_id -> Text,
        previous -> Text,
        current -> Text,
        reason -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    health_buckets (integration_id, span_seconds, bucket_start) {
        integration_id -> Text,
        span_seconds -> Integer,
        bucket_start -> Timestamp,
        checks -> Integer,
        check_failures -> Integer,
        calls -> Integer,
        call_failures -> Integer,
        latency_sum -> BigInt,
        latency_count -> Integer,
        h0 -> Integer,
        h1 -> Integer,
        h2 -> Integer,
        h3 -> Integer,
        h4 -> Integer,
        h5 -> Integer,
        h6 -> Integer,
        h7 -> Integer,
        h8 -> Integer,
        h9 -> Integer,
        h10 -> Integer,
        h11 -> Integer,
        h12 -> Integer,
        h13 -> Integer,
        h14 -> Integer,
        h15 -> Integer,
    }
}

diesel::table! {
    alert_rules (id) {
        id -> Text,
        project_id -> Text,
        integration_id -> Nullable<Text>,
        name -> Text,
        kind -> Text,
        threshold -> Nullable<Double>,
        window_seconds -> Integer,
        breaches -> Integer,
        evaluations -> Integer,
        severity -> Text,
        reminder_seconds -> Nullable<Integer>,
        enabled -> Bool,
        recent -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        project_id -> Text,
        integration_id -> Nullable<Text>,
        rule_id -> Nullable<Text>,
        subject -> Text,
        dedupe_key -> Nullable<Text>,
        kind -> Text,
        severity -> Text,
        state -> Text,
        summary -> Text,
        details -> Text,
        fired_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        last_notified_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(health_states, integrations);

diesel::joinable!(deliveries -> webhooks (webhook_id));
diesel::joinable!(deliveries -> events (event_id));
diesel::allow_tables_to_appear_in_same_query!(deliveries, webhooks, events, delivery_attempts);

diesel::table! {
    template_families (id) {
        id -> Text,
        owner -> Text,
        project_id -> Nullable<Text>,
        slug -> Text,
        built_in -> Bool,
        shared_with_all -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    template_shares (family_id, project_id) {
        family_id -> Text,
        project_id -> Text,
    }
}

diesel::table! {
    templates (id) {
        id -> Text,
        family_id -> Text,
        project_id -> Nullable<Text>,
        version -> Integer,
        state -> Text,
        is_current -> Bool,
        built_in -> Bool,
        support_level -> Text,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        category -> Text,
        protocol -> Text,
        icon -> Nullable<Text>,
        definition -> Text,
        content_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        deprecated_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    templates,
    template_families,
    template_shares,
    integrations
);

diesel::table! {
    oauth_states (state_hash) {
        state_hash -> Text,
        integration_id -> Text,
        project_id -> Text,
        key_id -> Text,
        sealed_verifier -> Binary,
        redirect_uri -> Text,
        callback_url -> Text,
        scopes -> Text,
        created_by_id -> Nullable<Text>,
        created_by_name -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(oauth_states -> integrations (integration_id));
diesel::allow_tables_to_appear_in_same_query!(oauth_states, integrations);

diesel::table! {
    syncs (id) {
        id -> Text,
        project_id -> Text,
        integration_id -> Text,
        name -> Text,
        operation -> Text,
        params -> Text,
        interval_seconds -> Integer,
        pagination -> Nullable<Text>,
        records_pointer -> Text,
        record_id_pointer -> Text,
        field_mapping -> Nullable<Text>,
        page_size -> Nullable<Integer>,
        enabled -> Bool,
        next_run_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Text,
        sync_id -> Text,
        integration_id -> Text,
        project_id -> Text,
        status -> Text,
        trigger_kind -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        pages -> Integer,
        fetched -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        deleted -> BigInt,
        errors -> Integer,
        cursor -> Nullable<Text>,
        last_error -> Nullable<Text>,
        cancel_requested -> Bool,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sync_records (id) {
        id -> Text,
        integration_id -> Text,
        sync_id -> Text,
        project_id -> Text,
        record_id -> Text,
        hash -> Text,
        data -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
        changed_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seen_run_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(syncs, sync_runs, sync_records);

diesel::table! {
    /// One row per (tag, integration), kept by triggers from `integrations.tags`.
    integration_tags (tag, integration_id) {
        tag -> Text,
        integration_id -> Text,
        category -> Text,
    }
}

diesel::joinable!(integration_tags -> integrations (integration_id));
diesel::allow_tables_to_appear_in_same_query!(integration_tags, integrations);

diesel::table! {
    /// Integrations per project and kind (category, status, enabled), kept by triggers on
    /// `integrations` (migration 000015); a project's count is the sum of its rows.
    integration_counts (project_id, category, status, enabled, shard) {
        project_id -> Text,
        category -> Text,
        status -> Text,
        enabled -> Bool,
        shard -> Integer,
        integrations -> BigInt,
    }
}
