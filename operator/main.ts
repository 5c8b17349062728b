/**
 * `juraft-operator` (the image's second entry point). The controller loop that executes the
 * membership planner's steps against the nodes is NOT written yet (issue 6): the API types, the
 * CRD, the pure builders, the planner, the conditions, the Kubernetes client, the informer and
 * the Lease leader election exist and are tested, but nothing here wires them together. Rather
 * than pretend to manage clusters, this entry point says so and exits with status 1.
 */
process.stderr.write(
  "juraft-operator: the reconcile loop is not implemented yet (see issue 6); " +
    "the CRD, chart and manifests install, but nothing reconciles JuraftClusters\n",
);
process.exitCode = 1;
