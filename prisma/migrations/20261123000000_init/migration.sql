-- CreateTable
CREATE TABLE "Task" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL,
    "migrationType" TEXT,
    "migrationMethod" TEXT,
    "resumeMode" TEXT,
    "bandwidthLimitMb" INTEGER,
    "networkType" TEXT,
    "vpcId" TEXT,
    "subnetId" TEXT,
    "securityGroupId" TEXT,
    "backupFiles" TEXT,
    "source" TEXT,
    "target" TEXT,
    "sourcePassword" TEXT,
    "targetPassword" TEXT,
    "taskStatus" TEXT,
    "error" TEXT,
    "options" TEXT,
    "checkpoint" TEXT,
    "runEpoch" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "releasedAt" DATETIME,
    "fullMigrationProgress" TEXT NOT NULL DEFAULT '0',
    "statOffset" TEXT NOT NULL DEFAULT '0',
    "sourceDbsize" TEXT NOT NULL DEFAULT '0',
    "targetDbsize" TEXT NOT NULL DEFAULT '0',
    "targetInputKbps" TEXT NOT NULL DEFAULT '0',
    "targetOps" TEXT NOT NULL DEFAULT '0',
    "isMigrating" BOOLEAN NOT NULL DEFAULT false
);

-- CreateTable
CREATE TABLE "TaskLog" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "taskId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "level" TEXT NOT NULL,
    "code" TEXT NOT NULL DEFAULT '',
    "message" TEXT NOT NULL,
    "keyword" TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT "TaskLog_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "taskId" TEXT,
    "status" TEXT NOT NULL,
    "failReason" TEXT NOT NULL DEFAULT '',
    "beginTime" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endTime" DATETIME
);

-- CreateIndex
CREATE INDEX "Task_projectId_createdAt_idx" ON "Task"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "TaskLog_taskId_id_idx" ON "TaskLog"("taskId", "id");

-- CreateIndex
CREATE INDEX "Job_projectId_idx" ON "Job"("projectId");

