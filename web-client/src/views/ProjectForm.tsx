import { useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { CreateProjectMutation } from '../api/operations';
import { useSession } from '../context';
import { ErrorBox, Field } from '../components/ui';

export function CreateProjectForm({ onCreated }: { onCreated?(id: string): void }) {
  const { reloadProjects, setProjectId } = useSession();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [state, create] = useMutation(CreateProjectMutation);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return;
    const r = await create({ input: { name: name.trim(), description: description.trim() || null } });
    if (r.data) {
      const id = r.data.createProject.project.id;
      setProjectId(id);
      reloadProjects();
      setName('');
      setDescription('');
      onCreated?.(id);
    }
  };
  return (
    <form class="form inline-form" onSubmit={submit} aria-label="New project">
      <ErrorBox error={state.error} />
      <div class="form-grid">
        <Field id="p-name" label="Project name">
          <input id="p-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
        </Field>
        <Field id="p-description" label="Description (optional)">
          <input id="p-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
      </div>
      <button class="primary" type="submit" disabled={state.fetching || !name.trim()}>Create project</button>
    </form>
  );
}
