/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      tokenId\n      name\n      role\n      project { id name slug }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name slug description createdAt } }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name slug description createdAt } }\n  }\n": typeof types.CreateProjectDocument,
    "\n  query Overview($projectId: ID) {\n    projects(first: 1) { totalCount }\n    all: integrations(projectId: $projectId, first: 1) { totalCount }\n    enabled: integrations(projectId: $projectId, filter: { enabled: true }, first: 1) { totalCount }\n    active: integrations(projectId: $projectId, filter: { status: ACTIVE }, first: 1) { totalCount }\n    activeEnabled: integrations(projectId: $projectId, filter: { status: ACTIVE, enabled: true }, first: 1) { totalCount }\n    webhooks(projectId: $projectId, first: 100) {\n      totalCount\n      nodes { id status failureCount }\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) {\n    integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id name description category protocol status enabled tags baseUrl authKind\n          circuitState updatedAt\n          project { id name }\n        }\n      }\n    }\n  }\n": typeof types.IntegrationsDocument,
    "\n  query Integration($id: ID!, $window: TimeWindow) {\n    integration(id: $id) {\n      id name description category protocol status enabled tags baseUrl config headers authKind\n      timeoutMs allowAbsoluteUrls circuitState createdBy version createdAt updatedAt\n      project { id name slug }\n      credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      retryPolicy { maxRetries baseDelayMs maxDelayMs }\n      rateLimit { requestsPerMinute burst }\n      cache { enabled ttlSeconds }\n      connectionCheck { method path expectedStatus }\n      incomingWebhook { scheme header path updatedAt }\n      metrics(window: $window) {\n        window totalRequests successCount failureCount successRate averageLatencyMs\n        p95LatencyMs bytesIn bytesOut lastActivityAt\n      }\n    }\n  }\n": typeof types.IntegrationDocument,
    "\n  query ExecutionsPage($id: ID!, $success: Boolean, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      executions(success: $success, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id operation method path statusCode success latencyMs retries cached bytes\n          errorClass errorMessage recoverable recoveryAction startedAt\n        }\n      }\n    }\n  }\n": typeof types.ExecutionsPageDocument,
    "\n  query IntegrationLogsPage($id: ID!, $minLevel: LogLevel, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      logs(minLevel: $minLevel, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { id level message metadata at integrationId }\n      }\n    }\n  }\n": typeof types.IntegrationLogsPageDocument,
    "\n  query LogsPage($filter: LogFilter, $first: Int, $after: String) {\n    logs(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes { id level message metadata at integrationId integration { id name } }\n    }\n  }\n": typeof types.LogsPageDocument,
    "\n  mutation CreateIntegration($input: CreateIntegrationInput!) {\n    createIntegration(input: $input) { integration { id name version } }\n  }\n": typeof types.CreateIntegrationDocument,
    "\n  mutation UpdateIntegration($input: UpdateIntegrationInput!) {\n    updateIntegration(input: $input) {\n      integration {\n        id name description category protocol status enabled tags baseUrl config headers\n        timeoutMs allowAbsoluteUrls version updatedAt\n        connectionCheck { method path expectedStatus }\n      }\n    }\n  }\n": typeof types.UpdateIntegrationDocument,
    "\n  mutation DeleteIntegration($id: ID!) {\n    deleteIntegration(id: $id) { deletedId }\n  }\n": typeof types.DeleteIntegrationDocument,
    "\n  mutation SetIntegrationEnabled($id: ID!, $enabled: Boolean!) {\n    setIntegrationEnabled(id: $id, enabled: $enabled) { integration { id enabled version updatedAt } }\n  }\n": typeof types.SetIntegrationEnabledDocument,
    "\n  mutation SetCredentials($input: SetCredentialsInput!) {\n    setCredentials(input: $input) {\n      integration {\n        id authKind version\n        credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      }\n    }\n  }\n": typeof types.SetCredentialsDocument,
    "\n  mutation TestConnection($id: ID!) {\n    testConnection(id: $id) {\n      ok statusCode latencyMs errorClass message\n      execution { id startedAt }\n    }\n  }\n": typeof types.TestConnectionDocument,
    "\n  mutation ExecuteRequest($input: ExecuteRequestInput!) {\n    executeRequest(input: $input) {\n      ok status headers body bodyText truncated cached\n      error { code errorClass message recoverable recoveryAction retryAfterSeconds }\n      execution { id latencyMs retries bytes startedAt }\n    }\n  }\n": typeof types.ExecuteRequestDocument,
    "\n  subscription LiveLogs($projectId: ID, $integrationId: ID, $minLevel: LogLevel) {\n    logs(projectId: $projectId, integrationId: $integrationId, minLevel: $minLevel) {\n      id level message metadata at integrationId\n      integration { id name }\n    }\n  }\n": typeof types.LiveLogsDocument,
    "\n  subscription LiveExecutions($projectId: ID, $integrationId: ID) {\n    executions(projectId: $projectId, integrationId: $integrationId) {\n      id operation method path statusCode success latencyMs retries cached bytes\n      errorClass errorMessage recoverable recoveryAction startedAt\n      integration { id name }\n    }\n  }\n": typeof types.LiveExecutionsDocument,
    "\n  subscription LiveDeliveries($webhookId: ID) {\n    deliveries(webhookId: $webhookId) {\n      id deliveryId webhookId statusCode latencyMs responseSnippet error at\n    }\n  }\n": typeof types.LiveDeliveriesDocument,
    "\n  query Webhooks($projectId: ID, $first: Int, $after: String) {\n    webhooks(projectId: $projectId, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id url description eventTypes enabled status disabledReason failureCount lastDeliveryAt createdAt\n        project { id name }\n      }\n    }\n  }\n": typeof types.WebhooksDocument,
    "\n  query Webhook($id: ID!, $window: TimeWindow, $status: DeliveryStatus, $first: Int, $after: String) {\n    webhook(id: $id) {\n      id url description eventTypes enabled status disabledReason failureCount failingSince\n      lastDeliveryAt previousSecretExpiresAt headers rateLimitPerSecond createdBy createdAt updatedAt\n      filter { integrationIds categories }\n      project { id name }\n      stats(window: $window) { window attempts successfulAttempts successRate p95LatencyMs lastAttemptAt }\n      deliveries(status: $status, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id eventType status attemptCount nextAttemptAt lastStatusCode createdAt\n          event { id type createdAt }\n          attempts { id statusCode latencyMs responseSnippet error at }\n        }\n      }\n    }\n  }\n": typeof types.WebhookDocument,
    "\n  query EventTypes {\n    eventTypes { name description example }\n  }\n": typeof types.EventTypesDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) { secret webhook { id url status } }\n  }\n": typeof types.CreateWebhookDocument,
    "\n  mutation UpdateWebhook($input: UpdateWebhookInput!) {\n    updateWebhook(input: $input) { webhook { id url description eventTypes enabled status disabledReason updatedAt } }\n  }\n": typeof types.UpdateWebhookDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) { deletedId }\n  }\n": typeof types.DeleteWebhookDocument,
    "\n  mutation RotateWebhookSecret($id: ID!, $graceHours: Int) {\n    rotateWebhookSecret(id: $id, graceHours: $graceHours) { secret webhook { id previousSecretExpiresAt } }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation SendTestEvent($webhookId: ID!) {\n    sendTestEvent(webhookId: $webhookId) { delivery { id status eventType } }\n  }\n": typeof types.SendTestEventDocument,
    "\n  mutation Redeliver($deliveryId: ID!) {\n    redeliver(deliveryId: $deliveryId) { delivery { id status eventType } }\n  }\n": typeof types.RedeliverDocument,
    "\n  mutation ReplayWebhook($input: ReplayWebhookInput!) {\n    replayWebhook(input: $input) { count }\n  }\n": typeof types.ReplayWebhookDocument,
    "\n  mutation RotateEncryptionKey {\n    rotateEncryptionKey { id targetKeyId state done total startedAt finishedAt }\n  }\n": typeof types.RotateEncryptionKeyDocument,
    "\n  query KeyRotation($id: ID!) {\n    keyRotation(id: $id) { id targetKeyId state done total startedAt finishedAt }\n  }\n": typeof types.KeyRotationDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      tokenId\n      name\n      role\n      project { id name slug }\n    }\n  }\n": types.ViewerDocument,
    "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name slug description createdAt } }\n    }\n  }\n": types.ProjectsDocument,
    "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name slug description createdAt } }\n  }\n": types.CreateProjectDocument,
    "\n  query Overview($projectId: ID) {\n    projects(first: 1) { totalCount }\n    all: integrations(projectId: $projectId, first: 1) { totalCount }\n    enabled: integrations(projectId: $projectId, filter: { enabled: true }, first: 1) { totalCount }\n    active: integrations(projectId: $projectId, filter: { status: ACTIVE }, first: 1) { totalCount }\n    activeEnabled: integrations(projectId: $projectId, filter: { status: ACTIVE, enabled: true }, first: 1) { totalCount }\n    webhooks(projectId: $projectId, first: 100) {\n      totalCount\n      nodes { id status failureCount }\n    }\n  }\n": types.OverviewDocument,
    "\n  query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) {\n    integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id name description category protocol status enabled tags baseUrl authKind\n          circuitState updatedAt\n          project { id name }\n        }\n      }\n    }\n  }\n": types.IntegrationsDocument,
    "\n  query Integration($id: ID!, $window: TimeWindow) {\n    integration(id: $id) {\n      id name description category protocol status enabled tags baseUrl config headers authKind\n      timeoutMs allowAbsoluteUrls circuitState createdBy version createdAt updatedAt\n      project { id name slug }\n      credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      retryPolicy { maxRetries baseDelayMs maxDelayMs }\n      rateLimit { requestsPerMinute burst }\n      cache { enabled ttlSeconds }\n      connectionCheck { method path expectedStatus }\n      incomingWebhook { scheme header path updatedAt }\n      metrics(window: $window) {\n        window totalRequests successCount failureCount successRate averageLatencyMs\n        p95LatencyMs bytesIn bytesOut lastActivityAt\n      }\n    }\n  }\n": types.IntegrationDocument,
    "\n  query ExecutionsPage($id: ID!, $success: Boolean, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      executions(success: $success, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id operation method path statusCode success latencyMs retries cached bytes\n          errorClass errorMessage recoverable recoveryAction startedAt\n        }\n      }\n    }\n  }\n": types.ExecutionsPageDocument,
    "\n  query IntegrationLogsPage($id: ID!, $minLevel: LogLevel, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      logs(minLevel: $minLevel, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { id level message metadata at integrationId }\n      }\n    }\n  }\n": types.IntegrationLogsPageDocument,
    "\n  query LogsPage($filter: LogFilter, $first: Int, $after: String) {\n    logs(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes { id level message metadata at integrationId integration { id name } }\n    }\n  }\n": types.LogsPageDocument,
    "\n  mutation CreateIntegration($input: CreateIntegrationInput!) {\n    createIntegration(input: $input) { integration { id name version } }\n  }\n": types.CreateIntegrationDocument,
    "\n  mutation UpdateIntegration($input: UpdateIntegrationInput!) {\n    updateIntegration(input: $input) {\n      integration {\n        id name description category protocol status enabled tags baseUrl config headers\n        timeoutMs allowAbsoluteUrls version updatedAt\n        connectionCheck { method path expectedStatus }\n      }\n    }\n  }\n": types.UpdateIntegrationDocument,
    "\n  mutation DeleteIntegration($id: ID!) {\n    deleteIntegration(id: $id) { deletedId }\n  }\n": types.DeleteIntegrationDocument,
    "\n  mutation SetIntegrationEnabled($id: ID!, $enabled: Boolean!) {\n    setIntegrationEnabled(id: $id, enabled: $enabled) { integration { id enabled version updatedAt } }\n  }\n": types.SetIntegrationEnabledDocument,
    "\n  mutation SetCredentials($input: SetCredentialsInput!) {\n    setCredentials(input: $input) {\n      integration {\n        id authKind version\n        credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      }\n    }\n  }\n": types.SetCredentialsDocument,
    "\n  mutation TestConnection($id: ID!) {\n    testConnection(id: $id) {\n      ok statusCode latencyMs errorClass message\n      execution { id startedAt }\n    }\n  }\n": types.TestConnectionDocument,
    "\n  mutation ExecuteRequest($input: ExecuteRequestInput!) {\n    executeRequest(input: $input) {\n      ok status headers body bodyText truncated cached\n      error { code errorClass message recoverable recoveryAction retryAfterSeconds }\n      execution { id latencyMs retries bytes startedAt }\n    }\n  }\n": types.ExecuteRequestDocument,
    "\n  subscription LiveLogs($projectId: ID, $integrationId: ID, $minLevel: LogLevel) {\n    logs(projectId: $projectId, integrationId: $integrationId, minLevel: $minLevel) {\n      id level message metadata at integrationId\n      integration { id name }\n    }\n  }\n": types.LiveLogsDocument,
    "\n  subscription LiveExecutions($projectId: ID, $integrationId: ID) {\n    executions(projectId: $projectId, integrationId: $integrationId) {\n      id operation method path statusCode success latencyMs retries cached bytes\n      errorClass errorMessage recoverable recoveryAction startedAt\n      integration { id name }\n    }\n  }\n": types.LiveExecutionsDocument,
    "\n  subscription LiveDeliveries($webhookId: ID) {\n    deliveries(webhookId: $webhookId) {\n      id deliveryId webhookId statusCode latencyMs responseSnippet error at\n    }\n  }\n": types.LiveDeliveriesDocument,
    "\n  query Webhooks($projectId: ID, $first: Int, $after: String) {\n    webhooks(projectId: $projectId, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id url description eventTypes enabled status disabledReason failureCount lastDeliveryAt createdAt\n        project { id name }\n      }\n    }\n  }\n": types.WebhooksDocument,
    "\n  query Webhook($id: ID!, $window: TimeWindow, $status: DeliveryStatus, $first: Int, $after: String) {\n    webhook(id: $id) {\n      id url description eventTypes enabled status disabledReason failureCount failingSince\n      lastDeliveryAt previousSecretExpiresAt headers rateLimitPerSecond createdBy createdAt updatedAt\n      filter { integrationIds categories }\n      project { id name }\n      stats(window: $window) { window attempts successfulAttempts successRate p95LatencyMs lastAttemptAt }\n      deliveries(status: $status, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id eventType status attemptCount nextAttemptAt lastStatusCode createdAt\n          event { id type createdAt }\n          attempts { id statusCode latencyMs responseSnippet error at }\n        }\n      }\n    }\n  }\n": types.WebhookDocument,
    "\n  query EventTypes {\n    eventTypes { name description example }\n  }\n": types.EventTypesDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) { secret webhook { id url status } }\n  }\n": types.CreateWebhookDocument,
    "\n  mutation UpdateWebhook($input: UpdateWebhookInput!) {\n    updateWebhook(input: $input) { webhook { id url description eventTypes enabled status disabledReason updatedAt } }\n  }\n": types.UpdateWebhookDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) { deletedId }\n  }\n": types.DeleteWebhookDocument,
    "\n  mutation RotateWebhookSecret($id: ID!, $graceHours: Int) {\n    rotateWebhookSecret(id: $id, graceHours: $graceHours) { secret webhook { id previousSecretExpiresAt } }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation SendTestEvent($webhookId: ID!) {\n    sendTestEvent(webhookId: $webhookId) { delivery { id status eventType } }\n  }\n": types.SendTestEventDocument,
    "\n  mutation Redeliver($deliveryId: ID!) {\n    redeliver(deliveryId: $deliveryId) { delivery { id status eventType } }\n  }\n": types.RedeliverDocument,
    "\n  mutation ReplayWebhook($input: ReplayWebhookInput!) {\n    replayWebhook(input: $input) { count }\n  }\n": types.ReplayWebhookDocument,
    "\n  mutation RotateEncryptionKey {\n    rotateEncryptionKey { id targetKeyId state done total startedAt finishedAt }\n  }\n": types.RotateEncryptionKeyDocument,
    "\n  query KeyRotation($id: ID!) {\n    keyRotation(id: $id) { id targetKeyId state done total startedAt finishedAt }\n  }\n": types.KeyRotationDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      tokenId\n      name\n      role\n      project { id name slug }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      tokenId\n      name\n      role\n      project { id name slug }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name slug description createdAt } }\n    }\n  }\n"): (typeof documents)["\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { node { id name slug description createdAt } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name slug description createdAt } }\n  }\n"): (typeof documents)["\n  mutation CreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id name slug description createdAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview($projectId: ID) {\n    projects(first: 1) { totalCount }\n    all: integrations(projectId: $projectId, first: 1) { totalCount }\n    enabled: integrations(projectId: $projectId, filter: { enabled: true }, first: 1) { totalCount }\n    active: integrations(projectId: $projectId, filter: { status: ACTIVE }, first: 1) { totalCount }\n    activeEnabled: integrations(projectId: $projectId, filter: { status: ACTIVE, enabled: true }, first: 1) { totalCount }\n    webhooks(projectId: $projectId, first: 100) {\n      totalCount\n      nodes { id status failureCount }\n    }\n  }\n"): (typeof documents)["\n  query Overview($projectId: ID) {\n    projects(first: 1) { totalCount }\n    all: integrations(projectId: $projectId, first: 1) { totalCount }\n    enabled: integrations(projectId: $projectId, filter: { enabled: true }, first: 1) { totalCount }\n    active: integrations(projectId: $projectId, filter: { status: ACTIVE }, first: 1) { totalCount }\n    activeEnabled: integrations(projectId: $projectId, filter: { status: ACTIVE, enabled: true }, first: 1) { totalCount }\n    webhooks(projectId: $projectId, first: 100) {\n      totalCount\n      nodes { id status failureCount }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) {\n    integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id name description category protocol status enabled tags baseUrl authKind\n          circuitState updatedAt\n          project { id name }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Integrations($projectId: ID, $filter: IntegrationFilter, $first: Int, $after: String) {\n    integrations(projectId: $projectId, filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id name description category protocol status enabled tags baseUrl authKind\n          circuitState updatedAt\n          project { id name }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Integration($id: ID!, $window: TimeWindow) {\n    integration(id: $id) {\n      id name description category protocol status enabled tags baseUrl config headers authKind\n      timeoutMs allowAbsoluteUrls circuitState createdBy version createdAt updatedAt\n      project { id name slug }\n      credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      retryPolicy { maxRetries baseDelayMs maxDelayMs }\n      rateLimit { requestsPerMinute burst }\n      cache { enabled ttlSeconds }\n      connectionCheck { method path expectedStatus }\n      incomingWebhook { scheme header path updatedAt }\n      metrics(window: $window) {\n        window totalRequests successCount failureCount successRate averageLatencyMs\n        p95LatencyMs bytesIn bytesOut lastActivityAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Integration($id: ID!, $window: TimeWindow) {\n    integration(id: $id) {\n      id name description category protocol status enabled tags baseUrl config headers authKind\n      timeoutMs allowAbsoluteUrls circuitState createdBy version createdAt updatedAt\n      project { id name slug }\n      credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      retryPolicy { maxRetries baseDelayMs maxDelayMs }\n      rateLimit { requestsPerMinute burst }\n      cache { enabled ttlSeconds }\n      connectionCheck { method path expectedStatus }\n      incomingWebhook { scheme header path updatedAt }\n      metrics(window: $window) {\n        window totalRequests successCount failureCount successRate averageLatencyMs\n        p95LatencyMs bytesIn bytesOut lastActivityAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExecutionsPage($id: ID!, $success: Boolean, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      executions(success: $success, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id operation method path statusCode success latencyMs retries cached bytes\n          errorClass errorMessage recoverable recoveryAction startedAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ExecutionsPage($id: ID!, $success: Boolean, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      executions(success: $success, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id operation method path statusCode success latencyMs retries cached bytes\n          errorClass errorMessage recoverable recoveryAction startedAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query IntegrationLogsPage($id: ID!, $minLevel: LogLevel, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      logs(minLevel: $minLevel, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { id level message metadata at integrationId }\n      }\n    }\n  }\n"): (typeof documents)["\n  query IntegrationLogsPage($id: ID!, $minLevel: LogLevel, $first: Int, $after: String) {\n    integration(id: $id) {\n      id\n      logs(minLevel: $minLevel, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { id level message metadata at integrationId }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LogsPage($filter: LogFilter, $first: Int, $after: String) {\n    logs(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes { id level message metadata at integrationId integration { id name } }\n    }\n  }\n"): (typeof documents)["\n  query LogsPage($filter: LogFilter, $first: Int, $after: String) {\n    logs(filter: $filter, first: $first, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      nodes { id level message metadata at integrationId integration { id name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateIntegration($input: CreateIntegrationInput!) {\n    createIntegration(input: $input) { integration { id name version } }\n  }\n"): (typeof documents)["\n  mutation CreateIntegration($input: CreateIntegrationInput!) {\n    createIntegration(input: $input) { integration { id name version } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateIntegration($input: UpdateIntegrationInput!) {\n    updateIntegration(input: $input) {\n      integration {\n        id name description category protocol status enabled tags baseUrl config headers\n        timeoutMs allowAbsoluteUrls version updatedAt\n        connectionCheck { method path expectedStatus }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateIntegration($input: UpdateIntegrationInput!) {\n    updateIntegration(input: $input) {\n      integration {\n        id name description category protocol status enabled tags baseUrl config headers\n        timeoutMs allowAbsoluteUrls version updatedAt\n        connectionCheck { method path expectedStatus }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteIntegration($id: ID!) {\n    deleteIntegration(id: $id) { deletedId }\n  }\n"): (typeof documents)["\n  mutation DeleteIntegration($id: ID!) {\n    deleteIntegration(id: $id) { deletedId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetIntegrationEnabled($id: ID!, $enabled: Boolean!) {\n    setIntegrationEnabled(id: $id, enabled: $enabled) { integration { id enabled version updatedAt } }\n  }\n"): (typeof documents)["\n  mutation SetIntegrationEnabled($id: ID!, $enabled: Boolean!) {\n    setIntegrationEnabled(id: $id, enabled: $enabled) { integration { id enabled version updatedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetCredentials($input: SetCredentialsInput!) {\n    setCredentials(input: $input) {\n      integration {\n        id authKind version\n        credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SetCredentials($input: SetCredentialsInput!) {\n    setCredentials(input: $input) {\n      integration {\n        id authKind version\n        credentials { kind setFields updatedAt expiresAt keyId refreshError refreshFailedAt }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestConnection($id: ID!) {\n    testConnection(id: $id) {\n      ok statusCode latencyMs errorClass message\n      execution { id startedAt }\n    }\n  }\n"): (typeof documents)["\n  mutation TestConnection($id: ID!) {\n    testConnection(id: $id) {\n      ok statusCode latencyMs errorClass message\n      execution { id startedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExecuteRequest($input: ExecuteRequestInput!) {\n    executeRequest(input: $input) {\n      ok status headers body bodyText truncated cached\n      error { code errorClass message recoverable recoveryAction retryAfterSeconds }\n      execution { id latencyMs retries bytes startedAt }\n    }\n  }\n"): (typeof documents)["\n  mutation ExecuteRequest($input: ExecuteRequestInput!) {\n    executeRequest(input: $input) {\n      ok status headers body bodyText truncated cached\n      error { code errorClass message recoverable recoveryAction retryAfterSeconds }\n      execution { id latencyMs retries bytes startedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveLogs($projectId: ID, $integrationId: ID, $minLevel: LogLevel) {\n    logs(projectId: $projectId, integrationId: $integrationId, minLevel: $minLevel) {\n      id level message metadata at integrationId\n      integration { id name }\n    }\n  }\n"): (typeof documents)["\n  subscription LiveLogs($projectId: ID, $integrationId: ID, $minLevel: LogLevel) {\n    logs(projectId: $projectId, integrationId: $integrationId, minLevel: $minLevel) {\n      id level message metadata at integrationId\n      integration { id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveExecutions($projectId: ID, $integrationId: ID) {\n    executions(projectId: $projectId, integrationId: $integrationId) {\n      id operation method path statusCode success latencyMs retries cached bytes\n      errorClass errorMessage recoverable recoveryAction startedAt\n      integration { id name }\n    }\n  }\n"): (typeof documents)["\n  subscription LiveExecutions($projectId: ID, $integrationId: ID) {\n    executions(projectId: $projectId, integrationId: $integrationId) {\n      id operation method path statusCode success latencyMs retries cached bytes\n      errorClass errorMessage recoverable recoveryAction startedAt\n      integration { id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveDeliveries($webhookId: ID) {\n    deliveries(webhookId: $webhookId) {\n      id deliveryId webhookId statusCode latencyMs responseSnippet error at\n    }\n  }\n"): (typeof documents)["\n  subscription LiveDeliveries($webhookId: ID) {\n    deliveries(webhookId: $webhookId) {\n      id deliveryId webhookId statusCode latencyMs responseSnippet error at\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Webhooks($projectId: ID, $first: Int, $after: String) {\n    webhooks(projectId: $projectId, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id url description eventTypes enabled status disabledReason failureCount lastDeliveryAt createdAt\n        project { id name }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Webhooks($projectId: ID, $first: Int, $after: String) {\n    webhooks(projectId: $projectId, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes {\n        id url description eventTypes enabled status disabledReason failureCount lastDeliveryAt createdAt\n        project { id name }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Webhook($id: ID!, $window: TimeWindow, $status: DeliveryStatus, $first: Int, $after: String) {\n    webhook(id: $id) {\n      id url description eventTypes enabled status disabledReason failureCount failingSince\n      lastDeliveryAt previousSecretExpiresAt headers rateLimitPerSecond createdBy createdAt updatedAt\n      filter { integrationIds categories }\n      project { id name }\n      stats(window: $window) { window attempts successfulAttempts successRate p95LatencyMs lastAttemptAt }\n      deliveries(status: $status, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id eventType status attemptCount nextAttemptAt lastStatusCode createdAt\n          event { id type createdAt }\n          attempts { id statusCode latencyMs responseSnippet error at }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Webhook($id: ID!, $window: TimeWindow, $status: DeliveryStatus, $first: Int, $after: String) {\n    webhook(id: $id) {\n      id url description eventTypes enabled status disabledReason failureCount failingSince\n      lastDeliveryAt previousSecretExpiresAt headers rateLimitPerSecond createdBy createdAt updatedAt\n      filter { integrationIds categories }\n      project { id name }\n      stats(window: $window) { window attempts successfulAttempts successRate p95LatencyMs lastAttemptAt }\n      deliveries(status: $status, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes {\n          id eventType status attemptCount nextAttemptAt lastStatusCode createdAt\n          event { id type createdAt }\n          attempts { id statusCode latencyMs responseSnippet error at }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EventTypes {\n    eventTypes { name description example }\n  }\n"): (typeof documents)["\n  query EventTypes {\n    eventTypes { name description example }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) { secret webhook { id url status } }\n  }\n"): (typeof documents)["\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) { secret webhook { id url status } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhook($input: UpdateWebhookInput!) {\n    updateWebhook(input: $input) { webhook { id url description eventTypes enabled status disabledReason updatedAt } }\n  }\n"): (typeof documents)["\n  mutation UpdateWebhook($input: UpdateWebhookInput!) {\n    updateWebhook(input: $input) { webhook { id url description eventTypes enabled status disabledReason updatedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) { deletedId }\n  }\n"): (typeof documents)["\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) { deletedId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!, $graceHours: Int) {\n    rotateWebhookSecret(id: $id, graceHours: $graceHours) { secret webhook { id previousSecretExpiresAt } }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: ID!, $graceHours: Int) {\n    rotateWebhookSecret(id: $id, graceHours: $graceHours) { secret webhook { id previousSecretExpiresAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendTestEvent($webhookId: ID!) {\n    sendTestEvent(webhookId: $webhookId) { delivery { id status eventType } }\n  }\n"): (typeof documents)["\n  mutation SendTestEvent($webhookId: ID!) {\n    sendTestEvent(webhookId: $webhookId) { delivery { id status eventType } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Redeliver($deliveryId: ID!) {\n    redeliver(deliveryId: $deliveryId) { delivery { id status eventType } }\n  }\n"): (typeof documents)["\n  mutation Redeliver($deliveryId: ID!) {\n    redeliver(deliveryId: $deliveryId) { delivery { id status eventType } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayWebhook($input: ReplayWebhookInput!) {\n    replayWebhook(input: $input) { count }\n  }\n"): (typeof documents)["\n  mutation ReplayWebhook($input: ReplayWebhookInput!) {\n    replayWebhook(input: $input) { count }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateEncryptionKey {\n    rotateEncryptionKey { id targetKeyId state done total startedAt finishedAt }\n  }\n"): (typeof documents)["\n  mutation RotateEncryptionKey {\n    rotateEncryptionKey { id targetKeyId state done total startedAt finishedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyRotation($id: ID!) {\n    keyRotation(id: $id) { id targetKeyId state done total startedAt finishedAt }\n  }\n"): (typeof documents)["\n  query KeyRotation($id: ID!) {\n    keyRotation(id: $id) { id targetKeyId state done total startedAt finishedAt }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;