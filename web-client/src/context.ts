import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Client } from '@urql/core';
import type { LiveState } from './lib/client';
import type { ProjectsQuery, ViewerQuery } from './gql/graphql';

export type Viewer = ViewerQuery['viewer'];
export type ProjectSummary = ProjectsQuery['projects']['edges'][number]['node'];

export interface Session {
  client: Client;
  token: string;
  viewer: Viewer;
  projects: ProjectSummary[];
  /** The selected project, or null for "all projects". */
  projectId: string | null;
  setProjectId(id: string | null): void;
  reloadProjects(): void;
  liveState: LiveState;
  logout(): void;
  canEdit: boolean;
  isAdmin: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a session');
  return session;
}
