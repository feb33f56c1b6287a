// Every GraphQL operation the dashboard sends. `npm run codegen` types them from
// ../schema.graphql into src/gql/ (only fields that exist in the schema compile).
import { graphql } from '../gql';

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      tokenId
      name
      role
      project { id name slug }
    }
  }
`);

export const ProjectsQuery = graphql(`
  query Projects($first: Int, $after: String) {
    projects(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name slug description createdAt } }
    }
  }
`);

export const CreateProjectMutation = graphql(`
  mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { project { id name slug description createdAt } }
  }
`);


export const IntegrationsQuery = graphql(`
  query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) {
    integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id name description category protocol status enabled tags baseUrl authKind
          circuitState updatedAt version
          project { id name }
          health { status reason }
        }
      }
    }
  }
`);


export const IntegrationQuery = graphql(`
  query Integration($id: ID!, $window: TimeWindow) {
    integration(id: $id) {
      id name description category protocol status enabled tags baseUrl config headers authKind
      timeoutMs allowAbsoluteUrls circuitState createdBy version createdAt updatedAt
      project { id name slug }
      credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }
      retryPolicy { maxRetries baseDelayMs maxDelayMs }
      rateLimit { requestsPerMinute burst }
      cache { enabled ttlSeconds }
      connectionCheck { method path expectedStatus }
      incomingWebhook { scheme header path updatedAt }
      health { status reason }
      template { id name slug version state authKinds oauth2 { authorizeUrl tokenUrl scopes } }
      readiness { score passed checks { name passed severity detail } }
      healthCheck {
        method path expectedStatus maxLatencyMs intervalSeconds timeoutMs failureThreshold successThreshold
        bodyCondition { pointer comparison value }
      }
      metrics(window: $window) {
        window totalRequests successCount failureCount successRate averageLatencyMs
        p95LatencyMs bytesIn bytesOut lastActivityAt
      }
    }
  }
`);

export const ExecutionsPageQuery = graphql(`
  query ExecutionsPage($id: ID!, $success: Boolean, $first: Int, $after: String) {
    integration(id: $id) {
      id
      executions(success: $success, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id operation method path statusCode success latencyMs retries cached bytes
          errorClass errorMessage recoverable recoveryAction startedAt
        }
      }
    }
  }
`);

export const IntegrationLogsPageQuery = graphql(`
  query IntegrationLogsPage($id: ID!, $minLevel: LogLevel, $first: Int, $after: String) {
    integration(id: $id) {
      id
      logs(minLevel: $minLevel, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id level message metadata at integrationId }
      }
    }
  }
`);

export const LogsPageQuery = graphql(`
  query LogsPage($filter: LogFilter, $first: Int, $after: String) {
    logs(filter: $filter, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id level message metadata at integrationId integration { id name } }
    }
  }
`);

export const CreateIntegrationMutation = graphql(`
  mutation CreateIntegration($input: CreateIntegrationInput!) {
    createIntegration(input: $input) { integration { id name version } }
  }
`);

export const UpdateIntegrationMutation = graphql(`
  mutation UpdateIntegration($input: UpdateIntegrationInput!) {
    updateIntegration(input: $input) {
      integration {
        id name description category protocol status enabled tags baseUrl config headers
        timeoutMs allowAbsoluteUrls version updatedAt
        connectionCheck { method path expectedStatus }
      }
    }
  }
`);

export const DeleteIntegrationMutation = graphql(`
  mutation DeleteIntegration($id: ID!) {
    deleteIntegration(id: $id) { deletedId }
  }
`);

export const SetIntegrationEnabledMutation = graphql(`
  mutation SetIntegrationEnabled($id: ID!, $enabled: Boolean!) {
    setIntegrationEnabled(id: $id, enabled: $enabled) { integration { id enabled version updatedAt } }
  }
`);

export const SetCredentialsMutation = graphql(`
  mutation SetCredentials($input: SetCredentialsInput!) {
    setCredentials(input: $input) {
      integration {
        id authKind version
        credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }
      }
    }
  }
`);

export const TestConnectionMutation = graphql(`
  mutation TestConnection($id: ID!) {
    testConnection(id: $id) {
      ok statusCode latencyMs errorClass message
      execution { id startedAt }
    }
  }
`);

export const ExecuteRequestMutation = graphql(`
  mutation ExecuteRequest($input: ExecuteRequestInput!) {
    executeRequest(input: $input) {
      ok status headers body bodyText truncated cached
      error { code errorClass message recoverable recoveryAction retryAfterSeconds }
      execution { id latencyMs retries bytes startedAt }
    }
  }
`);

export const LogsSubscription = graphql(`
  subscription LiveLogs($projectId: ID, $integrationId: ID, $minLevel: LogLevel) {
    logs(projectId: $projectId, integrationId: $integrationId, minLevel: $minLevel) {
      id level message metadata at integrationId
      integration { id name }
    }
  }
`);

export const ExecutionsSubscription = graphql(`
  subscription LiveExecutions($projectId: ID, $integrationId: ID) {
    executions(projectId: $projectId, integrationId: $integrationId) {
      id operation method path statusCode success latencyMs retries cached bytes
      errorClass errorMessage recoverable recoveryAction startedAt
      integration { id name }
    }
  }
`);

export const DeliveriesSubscription = graphql(`
  subscription LiveDeliveries($webhookId: ID) {
    deliveries(webhookId: $webhookId) {
      id deliveryId webhookId statusCode latencyMs responseSnippet error at
    }
  }
`);

export const WebhooksQuery = graphql(`
  query Webhooks($projectId: ID, $first: Int, $after: String) {
    webhooks(projectId: $projectId, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id url description eventTypes enabled status disabledReason failureCount lastDeliveryAt createdAt
        project { id name }
      }
    }
  }
`);

export const WebhookQuery = graphql(`
  query Webhook($id: ID!, $window: TimeWindow, $status: DeliveryStatus, $first: Int, $after: String) {
    webhook(id: $id) {
      id url description eventTypes enabled status disabledReason failureCount failingSince
      lastDeliveryAt previousSecretExpiresAt headers rateLimitPerSecond createdBy createdAt updatedAt
      filter { integrationIds categories }
      project { id name }
      stats(window: $window) { window attempts successfulAttempts successRate p95LatencyMs lastAttemptAt }
      deliveries(status: $status, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id eventType status attemptCount nextAttemptAt lastStatusCode createdAt
          event { id type createdAt }
          attempts { id statusCode latencyMs responseSnippet error at }
        }
      }
    }
  }
`);

export const EventTypesQuery = graphql(`
  query EventTypes {
    eventTypes { name description example }
  }
`);

export const CreateWebhookMutation = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) { secret webhook { id url status } }
  }
`);

export const UpdateWebhookMutation = graphql(`
  mutation UpdateWebhook($input: UpdateWebhookInput!) {
    updateWebhook(input: $input) { webhook { id url description eventTypes enabled status disabledReason updatedAt } }
  }
`);

export const DeleteWebhookMutation = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id) { deletedId }
  }
`);

export const RotateWebhookSecretMutation = graphql(`
  mutation RotateWebhookSecret($id: ID!, $graceHours: Int) {
    rotateWebhookSecret(id: $id, graceHours: $graceHours) { secret webhook { id previousSecretExpiresAt } }
  }
`);

export const SendTestEventMutation = graphql(`
  mutation SendTestEvent($webhookId: ID!) {
    sendTestEvent(webhookId: $webhookId) { delivery { id status eventType } }
  }
`);

export const RedeliverMutation = graphql(`
  mutation Redeliver($deliveryId: ID!) {
    redeliver(deliveryId: $deliveryId) { delivery { id status eventType } }
  }
`);

export const ReplayWebhookMutation = graphql(`
  mutation ReplayWebhook($input: ReplayWebhookInput!) {
    replayWebhook(input: $input) { count }
  }
`);

export const RotateEncryptionKeyMutation = graphql(`
  mutation RotateEncryptionKey {
    rotateEncryptionKey { id targetKeyId state done total startedAt finishedAt }
  }
`);

export const KeyRotationQuery = graphql(`
  query KeyRotation($id: ID!) {
    keyRotation(id: $id) { id targetKeyId state done total startedAt finishedAt }
  }
`);

// ---- Health -------------------------------------------------------------------------------

export const HealthGridQuery = graphql(`
  query HealthGrid($projectId: ID, $first: Int) {
    integrations(projectId: $projectId, first: $first) {
      totalCount
      nodes {
        id name enabled status category
        project { id name }
        health { status reason checked score changedAt lastCheckedAt }
      }
    }
  }
`);

export const IntegrationHealthQuery = graphql(`
  query IntegrationHealth($id: ID!, $window: HealthWindow) {
    integration(id: $id) {
      id name version enabled status
      project { id }
      healthCheck {
        method path expectedStatus maxLatencyMs intervalSeconds timeoutMs failureThreshold successThreshold
        bodyCondition { pointer comparison value }
      }
      health {
        status reason checked score lastCheckedAt lastLatencyMs lastError consecutiveFailures nextCheckAt changedAt
        hourUptime: uptime(window: HOUR) dayUptime: uptime(window: DAY) weekUptime: uptime(window: WEEK)
        hourP50: latencyP50Ms(window: HOUR) dayP50: latencyP50Ms(window: DAY) weekP50: latencyP50Ms(window: WEEK)
        hourP95: latencyP95Ms(window: HOUR) dayP95: latencyP95Ms(window: DAY) weekP95: latencyP95Ms(window: WEEK)
        hourP99: latencyP99Ms(window: HOUR) dayP99: latencyP99Ms(window: DAY) weekP99: latencyP99Ms(window: WEEK)
        hourErrors: errorRate(window: HOUR) dayErrors: errorRate(window: DAY) weekErrors: errorRate(window: WEEK)
        hourCounts: counts(window: HOUR) { checks checkFailures calls callFailures }
        dayCounts: counts(window: DAY) { checks checkFailures calls callFailures }
        weekCounts: counts(window: WEEK) { checks checkFailures calls callFailures }
        history(window: $window) { at checks checkFailures calls callFailures uptime latencyP95Ms averageLatencyMs }
        transitions(first: 20) { id previous current reason at }
      }
    }
  }
`);

export const RunHealthCheckMutation = graphql(`
  mutation RunHealthCheck($id: ID!) {
    runHealthCheck(id: $id) { ok statusCode latencyMs error health checkedAt }
  }
`);

export const UpdateHealthCheckMutation = graphql(`
  mutation UpdateHealthCheck($id: ID!, $healthCheck: HealthCheckInput) {
    updateIntegration(input: { id: $id, healthCheck: $healthCheck }) {
      integration {
        id version
        healthCheck {
          method path expectedStatus maxLatencyMs intervalSeconds timeoutMs failureThreshold successThreshold
          bodyCondition { pointer comparison value }
        }
        health { status reason checked }
      }
    }
  }
`);

export const HealthChangedSubscription = graphql(`
  subscription HealthChanged($projectId: ID, $integrationId: ID) {
    healthChanged(projectId: $projectId, integrationId: $integrationId) {
      id integrationId projectId previous current reason at
      integration { id name }
    }
  }
`);

// ---- Alerts -------------------------------------------------------------------------------

export const AlertsPageQuery = graphql(`
  query AlertsPage($filter: AlertFilter, $first: Int, $after: String) {
    alerts(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id kind subject severity state summary details firedAt acknowledgedAt acknowledgedBy resolvedAt resolvedBy lastNotifiedAt
        integration { id name }
        rule { id name }
        project { id name }
      }
    }
  }
`);

export const AlertCountsQuery = graphql(`
  query AlertCounts($projectId: ID) {
    firing: alerts(filter: { projectId: $projectId, state: FIRING }, first: 1) { totalCount }
    acknowledged: alerts(filter: { projectId: $projectId, state: ACKNOWLEDGED }, first: 1) { totalCount }
    resolved: alerts(filter: { projectId: $projectId, state: RESOLVED }, first: 1) { totalCount }
  }
`);

export const AlertsSubscription = graphql(`
  subscription LiveAlerts($projectId: ID) {
    alerts(projectId: $projectId) {
      transition at
      alert {
        id kind subject severity state summary details firedAt acknowledgedAt acknowledgedBy resolvedAt resolvedBy lastNotifiedAt
        integration { id name }
        rule { id name }
        project { id name }
      }
    }
  }
`);

export const AcknowledgeAlertMutation = graphql(`
  mutation AcknowledgeAlert($id: ID!) {
    acknowledgeAlert(id: $id) { alert { id state acknowledgedAt acknowledgedBy resolvedAt resolvedBy } }
  }
`);

export const ResolveAlertMutation = graphql(`
  mutation ResolveAlert($id: ID!) {
    resolveAlert(id: $id) { alert { id state acknowledgedAt acknowledgedBy resolvedAt resolvedBy } }
  }
`);

export const AlertRulesQuery = graphql(`
  query AlertRules($projectId: ID, $integrationId: ID, $first: Int, $after: String) {
    alertRules(projectId: $projectId, integrationId: $integrationId, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id name kind threshold windowSeconds breaches evaluations severity reminderSeconds enabled createdBy createdAt updatedAt
        project { id name }
        integration { id name }
      }
    }
  }
`);

export const ProjectIntegrationNamesQuery = graphql(`
  query ProjectIntegrationNames($projectId: ID) {
    integrations(projectId: $projectId, first: 200) { nodes { id name } }
  }
`);

export const CreateAlertRuleMutation = graphql(`
  mutation CreateAlertRule($input: CreateAlertRuleInput!) {
    createAlertRule(input: $input) { rule { id name } }
  }
`);

export const UpdateAlertRuleMutation = graphql(`
  mutation UpdateAlertRule($input: UpdateAlertRuleInput!) {
    updateAlertRule(input: $input) {
      rule { id name threshold windowSeconds breaches evaluations severity reminderSeconds enabled updatedAt }
    }
  }
`);

export const DeleteAlertRuleMutation = graphql(`
  mutation DeleteAlertRule($id: ID!) {
    deleteAlertRule(id: $id) { deletedId }
  }
`);

// ---- Outbox events (live lists) -------------------------------------------------------------

export const ProjectEventsSubscription = graphql(`
  subscription ProjectEvents($projectId: ID!, $types: [String!]) {
    events(projectId: $projectId, types: $types) { id type projectId timestamp payload }
  }
`);

// ---- Live stats ----------------------------------------------------------------------------

export const StatsSubscription = graphql(`
  subscription LiveStats($projectId: ID, $everySeconds: Int) {
    stats(projectId: $projectId, everySeconds: $everySeconds) {
      projectId window integrations activeIntegrations healthyIntegrations degradedIntegrations
      unhealthyIntegrations unknownIntegrations apiCallsToday apiCalls successRate averageLatencyMs
      webhooksActive deliveriesToday deliverySuccessRate alertsFiring computedAt
    }
  }
`);

// ---- Templates -----------------------------------------------------------------------------

export const TemplatesQuery = graphql(`
  query Templates($filter: TemplateFilter, $first: Int, $after: String) {
    templates(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id slug name description category protocol icon version state current supportLevel builtIn
        authKinds usageCount
        project { id name }
      }
    }
  }
`);

export const TemplateQuery = graphql(`
  query Template($id: ID!) {
    template(id: $id) {
      id slug name description category protocol icon docsUrl version state current supportLevel builtIn
      authKinds configSchema credentialSchema credentialMapping exampleConfig baseUrl headers webhookEvents
      usageCount createdBy createdAt updatedAt publishedAt deprecatedAt
      project { id name }
      operations {
        name description method path body
        parameters { name in required schema description }
        pagination { style itemsPointer cursorParam nextCursorPointer nextCursorFromLastItem pageParam firstPage offsetParam limitParam totalPointer xml }
      }
      healthCheck { operation expectedStatus maxLatencyMs }
      rateLimit { requestsPerMinute remainingHeader resetHeader }
      oauth2 { authorizeUrl tokenUrl scopes }
      incomingWebhooks { scheme eventNameSource }
      versions { id version state current publishedAt createdAt }
      sharing { allProjects projectIds }
    }
  }
`);

export const CreateTemplateMutation = graphql(`
  mutation CreateTemplate($input: CreateTemplateInput!) {
    createTemplate(input: $input) { template { id slug version state } }
  }
`);

export const UpdateTemplateMutation = graphql(`
  mutation UpdateTemplate($input: UpdateTemplateInput!) {
    updateTemplate(input: $input) { template { id slug version state } }
  }
`);

export const PublishTemplateMutation = graphql(`
  mutation PublishTemplate($id: ID!) {
    publishTemplate(id: $id) { template { id version state current publishedAt } }
  }
`);

export const DeprecateTemplateMutation = graphql(`
  mutation DeprecateTemplate($id: ID!) {
    deprecateTemplate(id: $id) { template { id version state current deprecatedAt } }
  }
`);

export const ShareTemplateMutation = graphql(`
  mutation ShareTemplate($input: ShareTemplateInput!) {
    shareTemplate(input: $input) { template { id sharing { allProjects projectIds } } }
  }
`);

export const CreateIntegrationFromTemplateMutation = graphql(`
  mutation CreateIntegrationFromTemplate($input: CreateIntegrationInput!) {
    createIntegration(input: $input) {
      integration { id name version authKind credentials { kind setFields } }
    }
  }
`);

export const StartOAuthMutation = graphql(`
  mutation StartOAuth($input: StartOAuthInput!) {
    startOAuth(input: $input) { authorizeUrl expiresAt }
  }
`);

// ---- Readiness and syncs -------------------------------------------------------------------


export const SyncRunFields = graphql(`
  fragment SyncRunFields on SyncRun {
    id syncId projectId status trigger startedAt finishedAt pages fetched created updated deleted errors
    lastError cancelRequested updatedAt
  }
`);

export const IntegrationSyncsQuery = graphql(`
  query IntegrationSyncs($id: ID!) {
    integration(id: $id) {
      id
      project { id }
      template {
        id name
        operations { name method path pagination { style } }
      }
      syncs {
        id name operation params intervalSeconds recordsPointer recordIdPointer fieldMapping pageSize enabled nextRunAt
        createdBy createdAt updatedAt
        pagination { style itemsPointer }
        runs(first: 20) { ...SyncRunFields }
      }
    }
  }
`);

export const SyncRecordsQuery = graphql(`
  query SyncRecords($id: ID!, $syncId: ID, $first: Int, $after: String, $includeDeleted: Boolean) {
    integration(id: $id) {
      id
      records(syncId: $syncId, first: $first, after: $after, includeDeleted: $includeDeleted) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id recordId syncId data hash firstSeen lastSeen changedAt deletedAt }
      }
    }
  }
`);

export const CreateSyncMutation = graphql(`
  mutation CreateSync($input: CreateSyncInput!) {
    createSync(input: $input) { sync { id name enabled } }
  }
`);

export const StartSyncMutation = graphql(`
  mutation StartSync($id: ID!) {
    startSync(id: $id) { sync { id enabled nextRunAt } }
  }
`);

export const StopSyncMutation = graphql(`
  mutation StopSync($id: ID!) {
    stopSync(id: $id) { sync { id enabled nextRunAt } }
  }
`);

export const DeleteSyncMutation = graphql(`
  mutation DeleteSync($id: ID!) {
    deleteSync(id: $id) { sync { id } }
  }
`);

export const RunSyncMutation = graphql(`
  mutation RunSync($id: ID!) {
    runSync(id: $id) { ...SyncRunFields }
  }
`);

export const SyncProgressSubscription = graphql(`
  subscription SyncProgress($projectId: ID, $syncId: ID) {
    syncProgress(projectId: $projectId, syncId: $syncId) { ...SyncRunFields }
  }
`);

// ---- Batch execution and replay progress ---------------------------------------------------

export const BatchExecuteMutation = graphql(`
  mutation BatchExecute($input: BatchExecuteInput!) {
    batchExecute(input: $input) {
      succeeded failed
      results {
        index ok
        result { status ok execution { id latencyMs } error { code errorClass message } }
        error { code errorClass message recoverable recoveryAction retryAfterSeconds }
      }
    }
  }
`);

export const WebhookDeliveriesPageQuery = graphql(`
  query WebhookDeliveriesPage($id: ID!, $first: Int, $after: String) {
    webhook(id: $id) {
      id
      deliveries(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id status createdAt event { id createdAt } }
      }
    }
  }
`);
