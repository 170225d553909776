// Recordings waiting to be sent, kept in IndexedDB so they survive a dropped network,
// a closed tab or a reload. Each item keeps the session it was recorded for (id, nonce,
// pensioner, deadline): a recording stays bound to the challenge it answers.

const DB_NAME = 'certify';
const STORE = 'outbox';
const memory = new Map(); // items IndexedDB is unavailable for or refused (private modes)
let dbPromise = null;

function openDb() {
  if (!('indexedDB' in window)) return Promise.resolve(null);
  if (!dbPromise) {
    dbPromise = new Promise((resolve) => {
      let request;
      try { request = indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    });
  }
  return dbPromise;
}

function request(db, mode, make) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = make(tx.objectStore(STORE));
    let result;
    req.onsuccess = () => { result = req.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** True when items survive a reload (IndexedDB works). */
export async function persistent() { return (await openDb()) !== null; }

export async function putItem(item) {
  const db = await openDb();
  if (db) {
    try {
      await request(db, 'readwrite', (store) => store.put(item));
      memory.delete(item.id);
      return;
    } catch (error) {
      // the browser refused to keep it (Safari's private and automated sessions refuse
      // Blobs): it is still sent from memory during this visit
    }
  }
  memory.set(item.id, item);
}

export async function getItem(id) {
  if (memory.has(id)) return memory.get(id);
  const db = await openDb();
  return db ? request(db, 'readonly', (store) => store.get(id)) : undefined;
}

export async function removeItem(id) {
  memory.delete(id);
  const db = await openDb();
  if (db) await request(db, 'readwrite', (store) => store.delete(id));
}

export async function listItems(owner) {
  const db = await openDb();
  const stored = db ? (await request(db, 'readonly', (store) => store.getAll())) || [] : [];
  const items = [...stored.filter((item) => !memory.has(item.id)), ...memory.values()];
  return items.filter((item) => !owner || item.owner === owner).sort((a, b) => a.recordedAt - b.recordedAt);
}
