// One QEMU at a time: test classes that boot a VM must not run side by side on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
