import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';
import { objectStoreContract } from './object-store.contract.ts';

objectStoreContract('memory', async () => ({ store: new MemoryObjectStore(), teardown: async () => {} }));
metadataStoreContract('memory', async () => ({ store: new MemoryMetadataStore(), teardown: async () => {} }));
