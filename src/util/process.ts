/** Whether a process of this host with that pid exists (`kill(pid, 0)`: only ESRCH says it is gone; EPERM is another user's). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
