import fs from 'node:fs';
const base = process.argv[2];
const files = []; for (const d of fs.readdirSync(base + '/sys/bus/pci/devices')) { const p = base + '/sys/bus/pci/devices/' + d + '/qat/state'; if (fs.existsSync(p)) files.push(p); }
const fds = files.map(f => fs.openSync(f, 'r')); const buf = Buffer.alloc(64);
for (let k = 0; k < 50; k++) for (const fd of fds) fs.readSync(fd, buf, 0, 64, 0);
const t = performance.now(); for (let k = 0; k < 200; k++) for (const fd of fds) fs.readSync(fd, buf, 0, 64, 0);
console.log(files.length, ((performance.now() - t) * 1000 / (200 * fds.length)).toFixed(2), 'us/pread');
